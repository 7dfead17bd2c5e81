//! template.yaml's parameter patterns: CloudFormation refuses a value its
//! AllowedPattern does not match (the whole value), so what the functions
//! would refuse at init cannot be deployed at all.

fn template() -> serde_norway::Value {
    let path = format!("{}/../template.yaml", env!("CARGO_MANIFEST_DIR"));
    serde_norway::from_str(&std::fs::read_to_string(path).expect("template")).expect("YAML")
}

fn pattern(name: &str) -> regex_lite::Regex {
    let t = template();
    let p = t["Parameters"][name]["AllowedPattern"]
        .as_str()
        .unwrap_or_else(|| panic!("{name} has an AllowedPattern"));
    regex_lite::Regex::new(&format!("^(?:{p})$")).expect("regex")
}

/// Each accepted value is also accepted by the code (`Config::from_vars`),
/// each refused one also refused by it or meaningless.
#[test]
fn expiry_days_deploy_exactly_what_the_code_accepts() {
    let re = pattern("ExpiryDays");
    for ok in ["30,14,7", "7,14,30", "3650,1,90", "1,1,1"] {
        assert!(re.is_match(ok), "{ok} should deploy");
        zw_core::Config::from_vars([
            ("AWS_REGION".to_owned(), "eu-west-1".to_owned()),
            ("ZW_EXPIRY_DAYS".to_owned(), ok.to_owned()),
        ])
        .unwrap_or_else(|e| panic!("{ok} deploys but the code refuses it: {e}"));
    }
    for bad in [
        "0,14,7",
        "3651,14,7",
        "30,14",
        "30, 14, 7",
        "30,14,7,3",
        "030,14,7",
    ] {
        assert!(!re.is_match(bad), "{bad} must be refused at deploy");
    }
}

#[test]
fn regions_must_name_at_least_one_region_and_nothing_empty() {
    let re = pattern("Regions");
    for ok in [
        "",
        "eu-west-1",
        "us-east-1,eu-west-1",
        "ap-southeast-2,us-gov-west-1",
    ] {
        assert!(re.is_match(ok), "{ok:?} should deploy");
    }
    for bad in [
        ",",
        "eu-west-1,",
        ",eu-west-1",
        "eu-west-1,,us-east-1",
        "eu west 1",
        "EU-WEST-1",
    ] {
        assert!(!re.is_match(bad), "{bad:?} must be refused at deploy");
    }
}

/// The heartbeat alarms expect a run at least every hour: a slower schedule
/// would keep them in ALARM, so it cannot be deployed.
#[test]
fn schedules_slower_than_the_heartbeat_alarms_are_refused() {
    for name in ["ScheduleExpression", "DnsScheduleExpression"] {
        let re = pattern(name);
        for ok in [
            "rate(1 hour)",
            "rate(15 minutes)",
            "rate(1 minute)",
            "cron(0 * * * ? *)",
        ] {
            assert!(re.is_match(ok), "{name}: {ok} should deploy");
        }
        for bad in [
            "rate(2 hours)",
            "rate(61 minutes)",
            "rate(1 day)",
            "rate(0 minutes)",
            "",
        ] {
            assert!(!re.is_match(bad), "{name}: {bad:?} must be refused");
        }
    }
}

/// The functions run with their own roles: logs only to their own log
/// group, never SAM's AWSLambdaBasicExecutionRole (logs:* on every group).
#[test]
fn functions_write_logs_to_their_own_log_group_only() {
    let t = template();
    let resources = t["Resources"].as_mapping().expect("resources");
    let mut functions = 0;
    for (name, r) in resources {
        if r["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        functions += 1;
        let name = name.as_str().expect("name");
        let props = &r["Properties"];
        assert!(
            props["Policies"].is_null(),
            "{name}: SAM policies add AWSLambdaBasicExecutionRole"
        );
        let role_ref = format!("{:?}", props["Role"]);
        let role_name = name.replace("Function", "Role");
        assert!(role_ref.contains(&role_name), "{name}: Role is {role_ref}");
        let role = &t["Resources"][role_name.as_str()];
        assert!(
            role["Properties"]["ManagedPolicyArns"].is_null(),
            "{name}: no managed policies"
        );
        let text = format!("{:?}", role["Properties"]["Policies"]);
        assert!(text.contains("logs:PutLogEvents"), "{name}");
        assert!(
            !text.contains("logs:*") && !text.contains("logs:CreateLogGroup"),
            "{name}: {text}"
        );
        let log_group = format!("{:?}", props["LoggingConfig"]["LogGroup"]);
        let group_name = log_group
            .split('"')
            .nth(1)
            .unwrap_or_else(|| panic!("{name}: log group {log_group}"))
            .to_owned();
        assert!(
            text.contains(&group_name),
            "{name}: logs go to {group_name} only: {text}"
        );
    }
    assert!(functions >= 3, "{functions}");
}

/// The license key is readable by the license function alone, and only it
/// is told where the key is; the endpoint parameter deploys only what the
/// code accepts (https).
#[test]
fn only_the_license_function_can_read_the_license_key() {
    let t = template();
    let resources = t["Resources"].as_mapping().expect("resources");
    let mut license_functions = 0;
    for (name, r) in resources {
        let name = name.as_str().expect("name");
        let text = format!("{:?}", r["Properties"]);
        if r["Type"].as_str() == Some("AWS::Serverless::Function") {
            let has_key = text.contains("ZW_LICENSE_KEY_PARAMETER");
            assert_eq!(has_key, name == "LicenseFunction", "{name}");
            license_functions += usize::from(name == "LicenseFunction");
        }
        if r["Type"].as_str() == Some("AWS::IAM::Role") {
            let reads_key =
                text.contains("ssm:GetParameter") && text.contains("LicenseKeyParameter");
            assert_eq!(reads_key, name == "LicenseRole", "{name}: {text}");
        }
    }
    assert_eq!(license_functions, 1);
    let endpoint = pattern("LicenseEndpoint");
    for ok in ["", "https://license.example.com/v1/licenses/validate"] {
        assert!(endpoint.is_match(ok), "{ok}");
        let vars = [("AWS_REGION", "eu-west-1"), ("ZW_LICENSE_ENDPOINT", ok)];
        assert!(zw_core::Config::from_vars(vars).is_ok(), "{ok}");
    }
    for bad in ["http://license.example.com/", "ftp://x"] {
        assert!(!endpoint.is_match(bad), "{bad}");
        let vars = [("AWS_REGION", "eu-west-1"), ("ZW_LICENSE_ENDPOINT", bad)];
        assert!(zw_core::Config::from_vars(vars).is_err(), "{bad}");
    }
    let parameter = pattern("LicenseKeyParameter");
    assert!(parameter.is_match("/zonewarden/license-key"));
    assert!(!parameter.is_match("no-leading-slash"));
}
