//! What `infra/vendor-portal/template.yaml` promises, read from the file: the
//! staff pool requires MFA and is the only way staff sign in, validation has
//! a throttle of its own, the access log (source addresses) has an explicit
//! retention, the surge alarms exist, and every setting the function gets is
//! one the code accepts, with the code's defaults. `cfn-lint` checks the
//! syntax; a deployment is the only check of the behaviour.
#![expect(
    clippy::unwrap_used,
    reason = "helpers outside #[test] fns fail the test on the unexpected, like the tests do"
)]

use serde_norway::Value;
use std::collections::BTreeSet;
use zw_vendor::config::{
    DEFAULT_MAX_ACTIVE_KEYS, DEFAULT_SIGN_IN_LIMIT, DEFAULT_UNKNOWN_KEY_LIMIT,
};
use zw_vendor::staff::policy;

fn template() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");
    serde_norway::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn resource<'a>(t: &'a Value, name: &str) -> &'a Value {
    t["Resources"]
        .get(name)
        .unwrap_or_else(|| panic!("resource {name}"))
}

fn props<'a>(t: &'a Value, name: &str) -> &'a Value {
    &resource(t, name)["Properties"]
}

/// `!Ref X` / `!GetAtt X.Y` / `!Sub ...`: the tag's name and its value.
fn tagged(v: &Value) -> Option<(String, &Value)> {
    match v {
        Value::Tagged(t) => Some((
            t.tag.to_string().trim_start_matches('!').to_owned(),
            &t.value,
        )),
        _ => None,
    }
}

fn reference(v: &Value) -> Option<String> {
    match tagged(v) {
        Some((tag, Value::String(s))) if tag == "Ref" => Some(s.clone()),
        _ => None,
    }
}

fn get_att(v: &Value) -> Option<String> {
    match tagged(v) {
        Some((tag, Value::String(s))) if tag == "GetAtt" => Some(s.clone()),
        _ => None,
    }
}

fn strings(v: &Value) -> BTreeSet<String> {
    v.as_sequence()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

fn as_i64(v: &Value) -> i64 {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or_else(|| panic!("a number: {v:?}"))
}

#[test]
fn staff_sign_in_is_the_cognito_pool_with_mfa_required_and_nothing_else() {
    let t = template();
    let pool = props(&t, "StaffUserPool");
    assert_eq!(
        resource(&t, "StaffUserPool")["Type"],
        "AWS::Cognito::UserPool"
    );
    assert_eq!(pool["MfaConfiguration"], "ON");
    assert_eq!(
        strings(&pool["EnabledMfas"]),
        BTreeSet::from(["SOFTWARE_TOKEN_MFA".to_owned()])
    );
    assert_eq!(
        pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"],
        true
    );
    let pw = &pool["Policies"]["PasswordPolicy"];
    assert_eq!(
        as_i64(&pw["MinimumLength"]),
        i64::from(policy::MIN_PASSWORD_LENGTH)
    );
    for class in [
        "RequireLowercase",
        "RequireUppercase",
        "RequireNumbers",
        "RequireSymbols",
    ] {
        assert_eq!(pw[class], true, "{class}");
    }
    assert_eq!(
        as_i64(&pw["TemporaryPasswordValidityDays"]),
        i64::from(policy::TEMPORARY_PASSWORD_DAYS)
    );
    let recovery = pool["AccountRecoverySetting"]["RecoveryMechanisms"]
        .as_sequence()
        .unwrap();
    assert_eq!(recovery.len(), 1);
    assert_eq!(recovery[0]["Name"], "admin_only");

    let client = props(&t, "StaffUserPoolClient");
    assert_eq!(
        reference(&client["UserPoolId"]).as_deref(),
        Some("StaffUserPool")
    );
    assert_eq!(client["GenerateSecret"], false);
    assert_eq!(
        strings(&client["ExplicitAuthFlows"]),
        BTreeSet::from([
            "ALLOW_ADMIN_USER_PASSWORD_AUTH".to_owned(),
            "ALLOW_REFRESH_TOKEN_AUTH".to_owned()
        ]),
        "only the server-side flow: no password tries with the client id alone"
    );
    assert_eq!(client["PreventUserExistenceErrors"], "ENABLED");
    assert_eq!(
        as_i64(&client["AuthSessionValidity"]),
        i64::from(policy::AUTH_SESSION_MINUTES)
    );
    assert_eq!(
        as_i64(&client["AccessTokenValidity"]),
        i64::from(policy::TOKEN_MINUTES)
    );
    assert_eq!(
        as_i64(&client["RefreshTokenValidity"]),
        i64::from(policy::REFRESH_TOKEN_MINUTES)
    );

    // The function signs staff in through that pool, and no shared secret
    // is left anywhere in the template.
    let env = &props(&t, "VendorApiFunction")["Environment"]["Variables"];
    assert_eq!(
        reference(&env["ZW_VENDOR_STAFF_USER_POOL_ID"]).as_deref(),
        Some("StaffUserPool")
    );
    assert_eq!(
        reference(&env["ZW_VENDOR_STAFF_CLIENT_ID"]).as_deref(),
        Some("StaffUserPoolClient")
    );
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml")).unwrap();
    assert!(!text.to_ascii_lowercase().contains("staff-token"));
    assert!(!text.contains("STAFF_TOKEN") && !text.contains("StaffToken"));
}

#[test]
fn the_role_may_run_the_sign_in_on_the_staff_pool_only() {
    let t = template();
    let statements = props(&t, "VendorApiRole")["Policies"][0]["PolicyDocument"]["Statement"]
        .as_sequence()
        .unwrap();
    let mut cognito = Vec::new();
    for s in statements {
        let actions: Vec<String> = match &s["Action"] {
            Value::String(a) => vec![a.clone()],
            other => strings(other).into_iter().collect(),
        };
        for a in &actions {
            assert!(!a.contains('*'), "no wildcard actions: {a}");
            if a.starts_with("cognito-idp:") {
                cognito.push(a.clone());
                assert_eq!(
                    get_att(&s["Resource"]).as_deref(),
                    Some("StaffUserPool.Arn"),
                    "{a} on the staff pool only"
                );
            }
        }
    }
    cognito.sort();
    assert_eq!(
        cognito,
        [
            "cognito-idp:AdminInitiateAuth",
            "cognito-idp:AdminRespondToAuthChallenge"
        ]
    );
}

#[test]
fn validation_has_a_throttle_of_its_own() {
    let t = template();
    let api = props(&t, "VendorHttpApi");
    let default = &api["DefaultRouteSettings"];
    let validate = &api["RouteSettings"]["POST /v1/licenses/validate"];
    let rate = reference(&validate["ThrottlingRateLimit"]).unwrap();
    let burst = reference(&validate["ThrottlingBurstLimit"]).unwrap();
    assert_eq!(
        (rate.as_str(), burst.as_str()),
        ("ValidateThrottleRate", "ValidateThrottleBurst")
    );
    assert_eq!(
        reference(&default["ThrottlingRateLimit"]).as_deref(),
        Some("PortalThrottleRate")
    );
    assert_eq!(
        reference(&default["ThrottlingBurstLimit"]).as_deref(),
        Some("PortalThrottleBurst")
    );
    for p in [
        "ValidateThrottleRate",
        "ValidateThrottleBurst",
        "PortalThrottleRate",
        "PortalThrottleBurst",
    ] {
        assert!(t["Parameters"].get(p).is_some(), "{p}");
    }
    // The route key is a route the function serves.
    let events = props(&t, "VendorApiFunction")["Events"]
        .as_mapping()
        .unwrap();
    assert!(events.values().any(|e| {
        e["Properties"]["Method"] == "POST" && e["Properties"]["Path"] == "/v1/licenses/validate"
    }));
}

#[test]
fn the_access_log_holds_source_addresses_for_an_explicit_time() {
    let t = template();
    let group = props(&t, "HttpApiAccessLogGroup");
    assert_eq!(
        reference(&group["RetentionInDays"]).as_deref(),
        Some("AccessLogRetentionDays")
    );
    let param = &t["Parameters"]["AccessLogRetentionDays"];
    assert_eq!(
        as_i64(&param["Default"]),
        30,
        "docs/licensing.md says 30 days"
    );
    let settings = &props(&t, "VendorHttpApi")["AccessLogSettings"];
    assert_eq!(
        get_att(&settings["DestinationArn"]).as_deref(),
        Some("HttpApiAccessLogGroup.Arn")
    );
    let format = settings["Format"].as_str().unwrap();
    assert!(format.contains("$context.identity.sourceIp"), "{format}");
    // Never a body, a query string, a header or a cookie: keys and tokens
    // stay out of the log.
    for never in [
        "requestBody",
        "querystring",
        "header",
        "cookie",
        "authorizer",
    ] {
        assert!(
            !format.to_lowercase().contains(never),
            "{never} in {format}"
        );
    }
}

#[test]
fn a_surge_of_4xx_or_429_sets_off_an_alarm() {
    let t = template();
    let surge = props(&t, "Api4xxSurgeAlarm");
    assert_eq!(surge["Namespace"], "AWS/ApiGateway");
    assert_eq!(surge["MetricName"], "4xx");
    assert_eq!(
        reference(&surge["Dimensions"][0]["Value"]).as_deref(),
        Some("VendorHttpApi")
    );
    assert_eq!(
        reference(&surge["Threshold"]).as_deref(),
        Some("Client4xxAlarmThreshold")
    );

    let filter = props(&t, "Throttled429MetricFilter");
    assert_eq!(
        reference(&filter["LogGroupName"]).as_deref(),
        Some("HttpApiAccessLogGroup")
    );
    assert_eq!(filter["FilterPattern"], r#"{ $.status = "429" }"#);
    let metric = &filter["MetricTransformations"][0];
    let alarm = props(&t, "Api429SurgeAlarm");
    assert_eq!(alarm["MetricName"], metric["MetricName"]);
    assert_eq!(alarm["Namespace"], metric["MetricNamespace"]);
    assert_eq!(
        reference(&alarm["Threshold"]).as_deref(),
        Some("Throttled429AlarmThreshold")
    );
    // The access log writes the status as a string: the pattern must quote it.
    let format = props(&t, "VendorHttpApi")["AccessLogSettings"]["Format"]
        .as_str()
        .unwrap();
    assert!(format.contains(r#""status":"$context.status""#), "{format}");
}

#[test]
fn every_setting_the_function_gets_is_one_the_code_accepts_with_its_defaults() {
    let t = template();
    let env = props(&t, "VendorApiFunction")["Environment"]["Variables"]
        .as_mapping()
        .unwrap();
    // Every name is known to the configuration (it refuses unknown ones).
    let vars: Vec<(String, String)> = env
        .keys()
        .map(|k| (k.as_str().unwrap().to_owned(), "7".to_owned()))
        .collect();
    let problems = match zw_vendor::Config::from_vars(vars) {
        Ok(_) => Vec::new(),
        Err(e) => e.problems,
    };
    assert!(
        !problems.iter().any(|p| p.contains("unknown variable")),
        "{problems:?}"
    );
    for (var, param, default, max) in [
        (
            "ZW_VENDOR_MAX_ACTIVE_KEYS",
            "MaxActiveKeysPerCustomer",
            DEFAULT_MAX_ACTIVE_KEYS,
            100,
        ),
        (
            "ZW_VENDOR_UNKNOWN_KEY_LIMIT",
            "UnknownKeyLimitPerMinute",
            DEFAULT_UNKNOWN_KEY_LIMIT,
            10_000,
        ),
        (
            "ZW_VENDOR_SIGN_IN_LIMIT",
            "SignInFailureLimitPerMinute",
            DEFAULT_SIGN_IN_LIMIT,
            10_000,
        ),
        (
            "ZW_VENDOR_RATE_LIMIT",
            "RateLimitPerMinute",
            zw_vendor::config::DEFAULT_RATE_LIMIT,
            10_000,
        ),
    ] {
        let value = env.get(var).unwrap_or_else(|| panic!("{var}"));
        assert_eq!(reference(value).as_deref(), Some(param), "{var}");
        let p = &t["Parameters"][param];
        assert_eq!(as_i64(&p["Default"]), i64::from(default), "{param}");
        assert_eq!(as_i64(&p["MinValue"]), 1, "{param}");
        assert_eq!(as_i64(&p["MaxValue"]), max, "{param}");
    }
}
