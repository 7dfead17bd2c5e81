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
    for (parameter, setting) in [
        ("ExpiryDays", "ZW_EXPIRY_DAYS"),
        ("DomainExpiryDays", "ZW_DOMAIN_EXPIRY_DAYS"),
    ] {
        expiry_days_deploy(parameter, setting);
    }
}

fn expiry_days_deploy(parameter: &str, setting: &str) {
    let re = pattern(parameter);
    for ok in ["30,14,7", "7,14,30", "3650,1,90", "1,1,1"] {
        assert!(re.is_match(ok), "{parameter}: {ok} should deploy");
        zw_core::Config::from_vars([
            ("AWS_REGION".to_owned(), "eu-west-1".to_owned()),
            (setting.to_owned(), ok.to_owned()),
        ])
        .unwrap_or_else(|e| panic!("{parameter}: {ok} deploys but the code refuses it: {e}"));
    }
    for bad in [
        "0,14,7",
        "3651,14,7",
        "30,14",
        "30, 14, 7",
        "30,14,7,3",
        "030,14,7",
    ] {
        assert!(
            !re.is_match(bad),
            "{parameter}: {bad} must be refused at deploy"
        );
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
        // The actions themselves (an ARN such as `arn:...:logs:*:...` of a
        // regional grant is not an action wildcard).
        let mut actions = Vec::new();
        actions_in(&role["Properties"]["Policies"], &mut actions);
        assert!(actions.iter().any(|a| a == "logs:PutLogEvents"), "{name}");
        assert!(
            !actions
                .iter()
                .any(|a| a == "*" || a == "logs:*" || a == "logs:CreateLogGroup"),
            "{name}: {actions:?}"
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
    for bad in [
        "http://license.example.com/",
        "ftp://x",
        "https://user:password@license.example.com/v1",
        "https://license.example.com/v1#fragment",
    ] {
        assert!(!endpoint.is_match(bad), "{bad}");
        let vars = [("AWS_REGION", "eu-west-1"), ("ZW_LICENSE_ENDPOINT", bad)];
        assert!(zw_core::Config::from_vars(vars).is_err(), "{bad}");
    }
    let parameter = pattern("LicenseKeyParameter");
    assert!(parameter.is_match("/zonewarden/license-key"));
    assert!(!parameter.is_match("no-leading-slash"));
}

// ---------------------------------------------------------------------------
// Deploys that cannot fail on a documented path. The checks below evaluate
// the few intrinsic functions the template uses where it matters (Ref, Sub,
// Join, Split, Select, and the condition functions) on chosen parameter
// values and pseudo parameters.
// ---------------------------------------------------------------------------

use serde_norway::Value;
use std::collections::BTreeMap;

/// An intrinsic function call as `(name without Fn::, argument)`, in either
/// spelling: the short form (`!Sub x`, a YAML tag) or the long one
/// (`{"Fn::Sub": x}`, `{"Ref": x}`).
fn intrinsic(v: &Value) -> Option<(String, &Value)> {
    match v {
        Value::Tagged(t) => {
            let tag = t.tag.to_string();
            Some((tag.trim_start_matches('!').to_owned(), &t.value))
        }
        Value::Mapping(m) if m.len() == 1 => {
            let (k, arg) = m.iter().next()?;
            let k = k.as_str()?;
            (k == "Ref" || k == "Condition" || k.starts_with("Fn::"))
                .then(|| (k.trim_start_matches("Fn::").to_owned(), arg))
        }
        _ => None,
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Evaluated {
    Str(String),
    List(Vec<String>),
}

/// Values for `Ref`: parameters (their defaults, unless given) and pseudo
/// parameters.
struct Scope {
    refs: BTreeMap<String, String>,
}

impl Scope {
    /// The template's parameter defaults, a stack of `stack_name` in
    /// `region`, and `overrides`.
    fn new(t: &Value, stack_name: &str, region: &str, overrides: &[(&str, &str)]) -> Scope {
        let mut refs = BTreeMap::new();
        for (k, p) in t["Parameters"].as_mapping().expect("parameters") {
            let default = match &p["Default"] {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => String::new(),
            };
            refs.insert(k.as_str().expect("name").to_owned(), default);
        }
        for (k, v) in [
            ("AWS::StackName", stack_name.to_owned()),
            (
                "AWS::StackId",
                format!(
                    "arn:aws:cloudformation:{region}:123456789012:stack/{stack_name}/1c2fa620-982a-11e3-aff7-50e2416294e0"
                ),
            ),
            ("AWS::Region", region.to_owned()),
            ("AWS::AccountId", "123456789012".to_owned()),
            ("AWS::Partition", "aws".to_owned()),
            ("AWS::URLSuffix", "amazonaws.com".to_owned()),
        ] {
            refs.insert(k.to_owned(), v);
        }
        for (k, v) in overrides {
            refs.insert((*k).to_owned(), (*v).to_owned());
        }
        Scope { refs }
    }

    fn string(&self, v: &Value) -> Result<String, String> {
        match self.eval(v)? {
            Evaluated::Str(s) => Ok(s),
            Evaluated::List(l) => Err(format!("a list where a string belongs: {l:?}")),
        }
    }

    fn list(&self, v: &Value) -> Result<Vec<String>, String> {
        match v {
            Value::Sequence(items) => items.iter().map(|i| self.string(i)).collect(),
            _ => match self.eval(v)? {
                Evaluated::List(l) => Ok(l),
                Evaluated::Str(s) => Err(format!("a string where a list belongs: {s}")),
            },
        }
    }

    fn eval(&self, v: &Value) -> Result<Evaluated, String> {
        if let Some((f, arg)) = intrinsic(v) {
            return match f.as_str() {
                "Ref" => {
                    let name = arg.as_str().ok_or("Ref of a non-string")?;
                    self.refs
                        .get(name)
                        .cloned()
                        .map(Evaluated::Str)
                        .ok_or_else(|| format!("Ref {name}: not a parameter"))
                }
                "Sub" => {
                    let (text, vars) = match arg {
                        Value::Sequence(s) if s.len() == 2 => (
                            s[0].as_str().ok_or("Sub text")?,
                            s[1].as_mapping().ok_or("Sub variables")?.clone(),
                        ),
                        _ => (
                            arg.as_str().ok_or("Sub of a non-string")?,
                            serde_norway::Mapping::new(),
                        ),
                    };
                    let mut out = String::new();
                    let mut rest = text;
                    while let Some(start) = rest.find("${") {
                        out.push_str(&rest[..start]);
                        let end = rest[start..].find('}').ok_or("unclosed ${")? + start;
                        let name = &rest[start + 2..end];
                        let value = match vars.get(name) {
                            Some(v) => self.string(v)?,
                            None => self
                                .refs
                                .get(name)
                                .cloned()
                                .ok_or_else(|| format!("Sub ${{{name}}}: cannot evaluate"))?,
                        };
                        out.push_str(&value);
                        rest = &rest[end + 1..];
                    }
                    out.push_str(rest);
                    Ok(Evaluated::Str(out))
                }
                "Join" => {
                    let s = arg.as_sequence().ok_or("Join args")?;
                    let sep = s[0].as_str().ok_or("Join separator")?;
                    Ok(Evaluated::Str(self.list(&s[1])?.join(sep)))
                }
                "Split" => {
                    let s = arg.as_sequence().ok_or("Split args")?;
                    let sep = s[0].as_str().ok_or("Split separator")?;
                    let text = self.string(&s[1])?;
                    Ok(Evaluated::List(
                        text.split(sep).map(str::to_owned).collect(),
                    ))
                }
                "Select" => {
                    let s = arg.as_sequence().ok_or("Select args")?;
                    let i = s[0].as_u64().ok_or("Select index")? as usize;
                    let l = self.list(&s[1])?;
                    l.get(i)
                        .cloned()
                        .map(Evaluated::Str)
                        .ok_or_else(|| format!("Select {i} of {l:?}"))
                }
                other => Err(format!("cannot evaluate {other}")),
            };
        }
        match v {
            Value::String(s) => Ok(Evaluated::Str(s.clone())),
            Value::Number(n) => Ok(Evaluated::Str(n.to_string())),
            other => Err(format!("cannot evaluate {other:?}")),
        }
    }

    /// A condition of the template's Conditions section, or a condition
    /// function, as true or false.
    fn condition(&self, t: &Value, v: &Value) -> Result<bool, String> {
        let (f, arg) = intrinsic(v).ok_or_else(|| format!("not a condition: {v:?}"))?;
        let args = || arg.as_sequence().ok_or(format!("{f} args"));
        match f.as_str() {
            "Condition" => {
                let name = arg.as_str().ok_or("Condition name")?;
                self.named_condition(t, name)
            }
            "Equals" => {
                let a = args()?;
                Ok(self.string(&a[0])? == self.string(&a[1])?)
            }
            "Not" => Ok(!self.condition(t, &args()?[0])?),
            "And" => args()?
                .iter()
                .try_fold(true, |acc, c| Ok(acc & self.condition(t, c)?)),
            "Or" => args()?
                .iter()
                .try_fold(false, |acc, c| Ok(acc | self.condition(t, c)?)),
            other => Err(format!("condition function {other}")),
        }
    }

    fn named_condition(&self, t: &Value, name: &str) -> Result<bool, String> {
        let c = &t["Conditions"][name];
        if c.is_null() {
            return Err(format!("no condition {name}"));
        }
        self.condition(t, c)
    }

    /// Whether the resource is created.
    fn creates(&self, t: &Value, resource: &str) -> Result<bool, String> {
        match t["Resources"][resource]["Condition"].as_str() {
            Some(c) => self.named_condition(t, c),
            None => Ok(true),
        }
    }
}

fn repo_file(name: &str) -> String {
    let path = format!("{}/../{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Lambda refuses an SQS event source whose BatchSize is above 10 without a
/// batching window of at least one second, and a window above 300 s: every
/// value the window's parameter allows must be one Lambda takes.
#[test]
fn sqs_event_sources_batch_only_as_lambda_allows() {
    let t = template();
    let mut sources = 0;
    for (name, r) in t["Resources"].as_mapping().expect("resources") {
        for (event, e) in r["Properties"]["Events"].as_mapping().into_iter().flatten() {
            if e["Type"].as_str() != Some("SQS") {
                continue;
            }
            sources += 1;
            let what = format!("{name:?}.{event:?}");
            let p = &e["Properties"];
            let batch = p["BatchSize"].as_u64().unwrap_or(10);
            let window = &p["MaximumBatchingWindowInSeconds"];
            let (min, max) = match intrinsic(window) {
                Some((f, arg)) if f == "Ref" => {
                    let param = &t["Parameters"][arg.as_str().expect("name")];
                    (
                        param["MinValue"].as_u64().unwrap_or(0),
                        param["MaxValue"].as_u64().unwrap_or(u64::MAX),
                    )
                }
                _ => {
                    let w = window.as_u64().unwrap_or(0);
                    (w, w)
                }
            };
            if batch > 10 {
                assert!(
                    min >= 1,
                    "{what}: BatchSize {batch} with a window from {min} s"
                );
            }
            assert!(max <= 300, "{what}: window up to {max} s");
        }
    }
    assert!(sources >= 2, "{sources}");
}

/// AWS Chatbot's pattern for `TeamsChannelId` (its CloudFormation schema:
/// only the URL-encoded form, at most 256 characters).
fn chatbot_accepts_teams_channel_id(id: &str) -> bool {
    let re = regex_lite::Regex::new(
        r"^[a-zA-Z0-9_=+/.,-]*%3[aA][a-zA-Z0-9_=+/.,-]*%40[a-zA-Z0-9_=+/.,-]*$",
    )
    .expect("regex");
    re.is_match(id) && id.len() <= 256
}

/// Users copy the channel id as Teams shows it (`19:…@thread.tacv2`) or
/// from a channel link (URL-encoded, `%3a` in lower case): both deploy, and
/// what reaches AWS Chatbot is the encoded form it accepts.
#[test]
fn teams_channel_ids_deploy_as_users_copy_them() {
    let t = template();
    let param = &t["Parameters"]["TeamsChannelId"];
    let re = pattern("TeamsChannelId");
    let max = param["MaxLength"].as_u64().expect("MaxLength") as usize;
    let long = format!("19:{}@thread.tacv2", "a".repeat(max - 16));
    assert_eq!(long.len(), max);
    let id_expr = &t["Resources"]["TeamsChannel"]["Properties"]["TeamsChannelId"];
    for ok in [
        "19:1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d@thread.tacv2",
        "19:abc_DEF-123@thread.skype",
        "19%3a1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d%40thread.tacv2",
        "19%3A1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d%40thread.tacv2",
        long.as_str(),
    ] {
        assert!(re.is_match(ok) && ok.len() <= max, "{ok} should deploy");
        let scope = Scope::new(&t, "zonewarden", "eu-west-1", &[("TeamsChannelId", ok)]);
        let sent = scope.string(id_expr).expect("evaluates");
        assert!(
            chatbot_accepts_teams_channel_id(&sent),
            "{ok} reaches AWS Chatbot as {sent}, which it refuses"
        );
        assert!(sent.starts_with("19%3"), "{sent}");
    }
    assert!(re.is_match(""), "empty: no Teams route");
    for bad in [
        "https://teams.microsoft.com/l/channel/19%3aabc%40thread.tacv2/General?groupId=x",
        "19:abc def@thread.tacv2",
        "19:abc",
        "abc@thread.tacv2",
        "19:a:b@thread.tacv2",
        "19:abc@thread@tacv2",
    ] {
        assert!(!re.is_match(bad), "{bad} must be refused at deploy");
    }
}

/// CloudFormation allows stack names of 128 characters; no name the
/// template derives may then outgrow its service's limit (a state machine
/// name has 80 at most), and the state machine's role still names the
/// state machine itself.
#[test]
fn no_resource_name_outgrows_its_limit_whatever_the_stack_name() {
    let t = template();
    let stack = format!("z{}", "-long-stack-name".repeat(8));
    let stack = &stack[..128];
    let scope = Scope::new(&t, stack, "eu-west-1", &[]);
    // (resource type, name property, limit, allowed characters)
    let limits: [(&str, &str, usize, &str); 8] = [
        (
            "AWS::Serverless::StateMachine",
            "Name",
            80,
            r"^[A-Za-z0-9_-]+$",
        ),
        (
            "AWS::Chatbot::SlackChannelConfiguration",
            "ConfigurationName",
            128,
            r"^[A-Za-z0-9_-]+$",
        ),
        (
            "AWS::Chatbot::MicrosoftTeamsChannelConfiguration",
            "ConfigurationName",
            128,
            r"^[A-Za-z0-9_-]+$",
        ),
        ("AWS::CloudWatch::Alarm", "AlarmName", 255, r"."),
        (
            "AWS::CloudWatch::Dashboard",
            "DashboardName",
            255,
            r"^[A-Za-z0-9_-]+$",
        ),
        ("AWS::Logs::LogGroup", "LogGroupName", 512, r"^[\w#./-]+$"),
        (
            "AWS::KMS::Alias",
            "AliasName",
            256,
            r"^alias/[A-Za-z0-9/_-]+$",
        ),
        ("AWS::IAM::Role", "RoleName", 64, r"^[\w+=,.@-]+$"),
    ];
    let mut named = 0;
    for (name, r) in t["Resources"].as_mapping().expect("resources") {
        let name = name.as_str().expect("name");
        for (ty, prop, limit, chars) in limits {
            if r["Type"].as_str() != Some(ty) || r["Properties"][prop].is_null() {
                continue;
            }
            named += 1;
            let value = scope
                .string(&r["Properties"][prop])
                .unwrap_or_else(|e| panic!("{name}.{prop}: {e}"));
            assert!(
                value.len() <= limit,
                "{name}.{prop} is {} characters for a {}-character stack name (at most {limit}): {value}",
                value.len(),
                stack.len()
            );
            assert!(
                regex_lite::Regex::new(chars)
                    .expect("regex")
                    .is_match(&value),
                "{name}.{prop}: {value}"
            );
        }
    }
    assert!(named >= 20, "{named}");

    // The state machine's own ARN in its role (a Distributed Map starts its
    // children as executions of its own state machine).
    let sm = &t["Resources"]["OrganizationStateMachine"]["Properties"];
    let sm_name = scope.string(&sm["Name"]).expect("name");
    let prefix = "arn:aws:states:eu-west-1:123456789012";
    let statements: Vec<&Value> = sm["Policies"]
        .as_sequence()
        .expect("policies")
        .iter()
        .filter_map(|p| p["Statement"].as_sequence())
        .flatten()
        .collect();
    let resources = |sid: &str| -> Vec<String> {
        let s = statements
            .iter()
            .find(|s| s["Sid"].as_str() == Some(sid))
            .unwrap_or_else(|| panic!("{sid}"));
        match &s["Resource"] {
            Value::Sequence(items) => items
                .iter()
                .map(|i| scope.string(i).expect("resource"))
                .collect(),
            one => vec![scope.string(one).expect("resource")],
        }
    };
    assert_eq!(
        resources("RunDistributedMapChildren"),
        vec![format!("{prefix}:stateMachine:{sm_name}")]
    );
    assert_eq!(
        resources("WatchDistributedMapChildren"),
        vec![
            format!("{prefix}:execution:{sm_name}/*"),
            format!("{prefix}:execution:{sm_name}:*")
        ]
    );
}

/// `key = value` pairs of one `[section]` of a TOML file (the flat subset
/// samconfig.toml uses), strings unquoted.
fn toml_section(text: &str, section: &str) -> BTreeMap<String, String> {
    let mut current = String::new();
    let mut out = BTreeMap::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if let Some(s) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = s.trim().to_owned();
        } else if current == section
            && let Some((k, v)) = line.split_once('=')
        {
            out.insert(k.trim().to_owned(), v.trim().trim_matches('"').to_owned());
        }
    }
    out
}

/// `sam deploy --guided` asks every parameter in the template's order and
/// grants the capabilities samconfig.toml lists (CAPABILITY_IAM alone when
/// there is none): the three a deployment decides come first, in the
/// console too, everything has a default, and organization mode's fixed
/// role name is deployable (CAPABILITY_NAMED_IAM).
#[test]
fn the_guided_deploy_asks_first_what_a_deployment_decides_and_can_deploy_every_mode() {
    let t = template();
    let first = ["AlarmEmail", "Regions", "DeploymentMode"];
    let params: Vec<&str> = t["Parameters"]
        .as_mapping()
        .expect("parameters")
        .keys()
        .map(|k| k.as_str().expect("name"))
        .collect();
    assert_eq!(params[..3], first, "the guided deploy's first questions");
    let groups = t["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
        .as_sequence()
        .expect("groups");
    let grouped: Vec<Vec<&str>> = groups
        .iter()
        .map(|g| {
            g["Parameters"]
                .as_sequence()
                .expect("group parameters")
                .iter()
                .map(|p| p.as_str().expect("name"))
                .collect()
        })
        .collect();
    assert_eq!(grouped[0], first, "the console's first group");
    let mut all: Vec<&str> = grouped.concat();
    all.sort_unstable();
    let mut declared = params.clone();
    declared.sort_unstable();
    assert_eq!(all, declared, "every parameter in exactly one group");
    for p in &params {
        assert!(
            !t["Parameters"][*p]["Default"].is_null(),
            "{p} has no default: the guided deploy and the console would insist on it"
        );
    }

    let samconfig = repo_file("samconfig.toml");
    let deploy = toml_section(&samconfig, "default.deploy.parameters");
    let capabilities: Vec<&str> = deploy
        .get("capabilities")
        .map(|c| c.split_whitespace().collect())
        .unwrap_or_default();
    assert!(capabilities.contains(&"CAPABILITY_IAM"), "{capabilities:?}");
    let fixed_names: Vec<&str> = t["Resources"]
        .as_mapping()
        .expect("resources")
        .iter()
        .filter(|(_, r)| {
            r["Type"]
                .as_str()
                .is_some_and(|ty| ty.starts_with("AWS::IAM::"))
                && !r["Properties"]["RoleName"].is_null()
        })
        .filter_map(|(k, _)| k.as_str())
        .collect();
    assert!(!fixed_names.is_empty(), "organization mode's scanner role");
    assert!(
        capabilities.contains(&"CAPABILITY_NAMED_IAM"),
        "{fixed_names:?} have fixed names: {capabilities:?}"
    );
    assert_eq!(deploy.get("resolve_s3").map(String::as_str), Some("true"));
    assert_eq!(
        deploy.get("confirm_changeset").map(String::as_str),
        Some("true")
    );
    let global = toml_section(&samconfig, "default.global.parameters");
    assert_eq!(
        global.get("stack_name").map(String::as_str),
        Some("zonewarden")
    );
    assert!(
        !repo_file(".gitignore")
            .lines()
            .any(|l| l.trim().trim_start_matches('/') == "samconfig.toml"),
        "samconfig.toml ships with the repository"
    );
}

/// The deploy-time license check answers within a bounded time whatever
/// happens: CloudFormation gives up on it after `ServiceTimeout` (instead
/// of an hour), which outlasts the function's own timeout.
#[test]
fn the_deploy_time_license_check_cannot_keep_a_stack_waiting() {
    let t = template();
    let check = &t["Resources"]["LicenseCheckAtDeploy"];
    assert_eq!(check["Type"].as_str(), Some("Custom::LicenseCheck"));
    let service_timeout = check["Properties"]["ServiceTimeout"]
        .as_u64()
        .expect("ServiceTimeout");
    let function_timeout = t["Resources"]["LicenseFunction"]["Properties"]["Timeout"]
        .as_u64()
        .expect("Timeout");
    assert!(
        service_timeout > function_timeout && service_timeout <= 300,
        "ServiceTimeout {service_timeout} s, function timeout {function_timeout} s"
    );
}

/// The regions whose CloudFormation lacks EventBridge API destinations and
/// connections: the webhook route is refused there with a message (a rule)
/// and its resources are never created there (conditions), and
/// docs/template.md names them.
#[test]
fn the_webhook_route_exists_only_where_api_destinations_do() {
    let t = template();
    let (or, regions) = intrinsic(&t["Conditions"]["ApiDestinationsMissing"]).expect("a condition");
    assert_eq!(or, "Or", "ApiDestinationsMissing is an Or of regions");
    let from_condition: Vec<String> = regions
        .as_sequence()
        .expect("regions")
        .iter()
        .map(|eq| {
            let (_, args) = intrinsic(eq).expect("Equals");
            args[1].as_str().expect("region").to_owned()
        })
        .collect();
    assert!(
        from_condition.contains(&"il-central-1".to_owned()),
        "{from_condition:?}"
    );
    let rule = &t["Rules"]["WebhookNeedsApiDestinations"];
    let assertion = &rule["Assertions"][0];
    let rule_text = format!("{:?}", assertion["Assert"]);
    let description = assertion["AssertDescription"].as_str().expect("text");
    let docs = repo_file("docs/template.md");
    for region in &from_condition {
        assert!(rule_text.contains(region.as_str()), "rule: {region}");
        assert!(description.contains(region.as_str()), "message: {region}");
        assert!(docs.contains(&format!("`{region}`")), "docs: {region}");
    }
    let url = [
        ("WebhookUrl", "https://hooks.example.com/zonewarden"),
        ("WebhookSecretName", "zonewarden/webhook"),
    ];
    let webhook_resources: Vec<&str> = t["Resources"]
        .as_mapping()
        .expect("resources")
        .iter()
        .filter(|(_, r)| {
            let text = format!("{r:?}");
            matches!(
                r["Type"].as_str(),
                Some("AWS::Events::ApiDestination" | "AWS::Events::Connection")
            ) || text.contains("WebhookDestination")
                || text.contains("WebhookConnection")
        })
        .filter_map(|(k, _)| k.as_str())
        .collect();
    assert!(webhook_resources.len() >= 3, "{webhook_resources:?}");
    for region in &from_condition {
        let scope = Scope::new(&t, "zonewarden", region, &url);
        for r in &webhook_resources {
            assert!(!scope.creates(&t, r).expect("condition"), "{r} in {region}");
        }
    }
    let elsewhere = Scope::new(&t, "zonewarden", "eu-west-1", &url);
    for r in &webhook_resources {
        assert!(
            elsewhere.creates(&t, r).expect("condition"),
            "{r} in eu-west-1"
        );
    }
}

// ---------------------------------------------------------------------------
// Writes scoped to partitions: every write action a role has on the findings
// table names the partitions it may touch (`dynamodb:LeadingKeys`).
// ---------------------------------------------------------------------------

/// The table's write actions (TransactWriteItems is authorised per contained
/// action, but a role that names it must scope it like the others).
const TABLE_WRITES: [&str; 5] = [
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:TransactWriteItems",
];

/// `StringLike` as IAM matches it: `*` any run of characters, `?` one.
pub(crate) fn string_like(pattern: &str, value: &str) -> bool {
    let (p, v): (Vec<char>, Vec<char>) = (pattern.chars().collect(), value.chars().collect());
    // Classic wildcard match with backtracking on the last `*`.
    let (mut i, mut j, mut star, mut mark) = (0, 0, None, 0);
    while j < v.len() {
        if i < p.len() && (p[i] == '?' || p[i] == v[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(s) = star {
            i = s + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    p[i..].iter().all(|c| *c == '*')
}

fn as_strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Sequence(items) => items
            .iter()
            .map(|i| i.as_str().expect("a string").to_owned())
            .collect(),
        _ => Vec::new(),
    }
}

/// Role -> table write action -> the `LeadingKeys` patterns it is allowed
/// on, read from every role of the template. Panics, naming the statement,
/// on a write that has no partition condition.
pub(crate) fn table_write_partitions() -> BTreeMap<String, BTreeMap<String, Vec<String>>> {
    let t = template();
    let mut out: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for (name, r) in t["Resources"].as_mapping().expect("resources") {
        let name = name.as_str().expect("name");
        let policies = match r["Type"].as_str() {
            Some("AWS::IAM::Role") => r["Properties"]["Policies"]
                .as_sequence()
                .map(|p| {
                    p.iter()
                        // A conditional policy: `!If [cond, policy, NoValue]`.
                        .map(|p| match intrinsic(p) {
                            Some((f, arg)) if f == "If" => &arg[1],
                            _ => p,
                        })
                        .map(|p| &p["PolicyDocument"])
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default(),
            Some("AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy") => {
                vec![&r["Properties"]["PolicyDocument"]]
            }
            _ => continue,
        };
        for doc in policies {
            for statement in doc["Statement"].as_sequence().expect("statements") {
                let sid = statement["Sid"].as_str().unwrap_or("(no Sid)");
                let actions = as_strings(&statement["Action"]);
                for a in &actions {
                    let a_lower = a.to_ascii_lowercase();
                    assert!(
                        a_lower == "dynamodb:getitem"
                            || a_lower == "dynamodb:query"
                            || !(a_lower.starts_with("dynamodb:") && a.contains('*')) && a != "*",
                        "{name}/{sid}: wildcard action {a} can write the table"
                    );
                }
                let writes: Vec<&String> = actions
                    .iter()
                    .filter(|a| TABLE_WRITES.contains(&a.as_str()))
                    .collect();
                if writes.is_empty() {
                    continue;
                }
                assert_eq!(statement["Effect"].as_str(), Some("Allow"), "{name}/{sid}");
                assert!(
                    statement["NotResource"].is_null() && statement["NotAction"].is_null(),
                    "{name}/{sid}"
                );
                let condition = &statement["Condition"];
                let keys = ["ForAllValues:StringLike", "ForAllValues:StringEquals"]
                    .iter()
                    .map(|op| as_strings(&condition[*op]["dynamodb:LeadingKeys"]))
                    .find(|k| !k.is_empty())
                    .unwrap_or_else(|| {
                        panic!(
                            "{name}/{sid}: {writes:?} on the table without a \
                             ForAllValues dynamodb:LeadingKeys condition"
                        )
                    });
                let equals =
                    !as_strings(&condition["ForAllValues:StringEquals"]["dynamodb:LeadingKeys"])
                        .is_empty();
                for k in &keys {
                    assert!(
                        !(equals && k.contains(['*', '?'])),
                        "{name}/{sid}: StringEquals does not expand {k}"
                    );
                    assert!(
                        *k != "*" && !k.is_empty(),
                        "{name}/{sid}: {k} is no partition"
                    );
                }
                for a in writes {
                    out.entry(name.to_owned())
                        .or_default()
                        .entry(a.clone())
                        .or_default()
                        .extend(keys.iter().cloned());
                }
            }
        }
    }
    out
}

/// A role may `action` an item whose partition key is `pk`.
pub(crate) fn may_write(
    roles: &BTreeMap<String, BTreeMap<String, Vec<String>>>,
    role: &str,
    action: &str,
    pk: &str,
) -> bool {
    roles
        .get(role)
        .and_then(|actions| actions.get(action))
        .is_some_and(|patterns| patterns.iter().any(|p| string_like(p, pk)))
}

#[test]
fn string_like_matches_as_iam_does() {
    for (p, v, want) in [
        ("HISTORY#*", "HISTORY#2026-12-03", true),
        ("HISTORY#*", "HISTORY#", true),
        ("HISTORY#*", "HISTORYX", false),
        ("ACCOUNT#*#FINDING", "ACCOUNT#111122223333#FINDING", true),
        ("ACCOUNT#*#FINDING", "ACCOUNT#111122223333#FINDINGS", false),
        ("ACCOUNT#*#FINDING", "ACCOUNT#1#HISTORY#x#FINDING", true),
        ("FINDING", "FINDING", true),
        ("FINDING", "FINDING#x", false),
        ("?#*", "A#", true),
    ] {
        assert_eq!(string_like(p, v), want, "{p} ~ {v}");
    }
}

/// Every write a role has on the table is scoped to partitions, and the
/// partitions are the ones `docs/template.md` lists: only the license
/// function writes the license and its audit trail, no scanner can delete or
/// batch-rewrite findings or history, only the summarizing function deletes
/// (an account's status, nothing else).
#[test]
fn every_table_write_is_scoped_to_the_partitions_its_role_owns() {
    let roles = table_write_partitions();
    for role in [
        "ScanCertificatesRole",
        "ScanDnsRole",
        "ScanHealthRole",
        "ScanEndpointsRole",
        "ScanQueryLogsRole",
        "ScanAccountRole",
        "RunOrganizationRole",
        "LicenseRole",
    ] {
        assert!(
            roles.contains_key(role),
            "{role} writes the table: {roles:?}"
        );
    }
    let day = "2026-12-03";
    let account = "ACCOUNT#111122223333#";
    for (role, actions) in &roles {
        for action in actions.keys() {
            for pk in ["LICENSE", "LICENSE#SENT"] {
                assert_eq!(
                    may_write(&roles, role, action, pk),
                    role == "LicenseRole" && action == "dynamodb:PutItem",
                    "{role} {action} {pk}"
                );
            }
            if action != "dynamodb:PutItem" {
                // Deleting (DeleteItem, or a BatchWriteItem delete) or
                // rewriting in place: never findings, history or records.
                for pk in [
                    "FINDING".to_owned(),
                    format!("HISTORY#{day}"),
                    format!("SCAN#{day}"),
                    format!("{account}FINDING"),
                    format!("{account}HISTORY#{day}"),
                    format!("{account}SCAN#{day}"),
                    "ORG#RUNS".to_owned(),
                ] {
                    assert!(
                        !may_write(&roles, role, action, &pk),
                        "{role} {action} {pk}"
                    );
                }
            }
            if action == "dynamodb:DeleteItem" {
                assert_eq!(role, "RunOrganizationRole");
                assert_eq!(actions[action], ["ORG#ACCOUNTS"]);
            }
        }
        // Single mode never writes an account's partitions, organization
        // mode never the single-mode ones.
        let single = role.starts_with("Scan") && role != "ScanAccountRole";
        for (action, patterns) in actions {
            for p in patterns {
                if single {
                    assert!(!p.starts_with("ACCOUNT#"), "{role} {action} {p}");
                }
                if role == "ScanAccountRole" {
                    assert!(
                        p.starts_with("ACCOUNT#*#") || p.starts_with("ORG#ACCOUNTS"),
                        "{role} {action} {p}"
                    );
                }
            }
        }
    }
    // docs/template.md lists the same role -> partitions.
    let docs = repo_file("docs/template.md");
    let section = docs
        .split("### What each role may write")
        .nth(1)
        .expect("docs/template.md has a section \"What each role may write\"");
    let mut documented: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for line in section
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
    {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        if cells.len() != 3 || cells[0] == "role" || cells[0].starts_with("---") {
            continue;
        }
        let patterns: Vec<String> = cells[2]
            .split(',')
            .map(|p| p.trim().trim_matches('`').to_owned())
            .collect();
        for action in cells[1].split(',') {
            documented
                .entry(cells[0].trim_matches('`').to_owned())
                .or_default()
                .insert(
                    format!("dynamodb:{}", action.trim().trim_matches('`')),
                    patterns.clone(),
                );
        }
    }
    let mut actual = roles.clone();
    for actions in actual.values_mut() {
        for patterns in actions.values_mut() {
            patterns.sort();
            patterns.dedup();
        }
    }
    for actions in documented.values_mut() {
        for patterns in actions.values_mut() {
            patterns.sort();
        }
    }
    assert_eq!(documented, actual, "docs/template.md vs template.yaml");
}

/// Every `Action` string anywhere in a YAML document (policies inline, in
/// `!If`s, in managed policies).
pub(crate) fn actions_in(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Mapping(m) => {
            for (k, child) in m {
                if matches!(k.as_str(), Some("Action" | "NotAction")) {
                    out.extend(as_strings(child));
                }
                actions_in(child, out);
            }
        }
        Value::Sequence(items) => items.iter().for_each(|i| actions_in(i, out)),
        Value::Tagged(t) => actions_in(&t.value, out),
        _ => {}
    }
}

/// No role of ours may list object keys (or read objects): the bucket check
/// of the DNS family asks `GetBucketLocation`, which tells 404 from 403 and
/// reveals a region, nothing else.
#[test]
fn no_role_can_list_or_read_objects() {
    let mut checked = 0;
    for file in [
        "template.yaml",
        "infra/org/member-role.yaml",
        "infra/vendor-portal/template.yaml",
    ] {
        let doc: Value = serde_norway::from_str(&repo_file(file)).expect("YAML");
        let mut actions = Vec::new();
        actions_in(&doc, &mut actions);
        assert!(!actions.is_empty(), "{file}");
        for a in &actions {
            checked += 1;
            let a = a.to_ascii_lowercase();
            assert!(
                !(a == "*"
                    || a == "s3:*"
                    || a.starts_with("s3:list")
                    || a.starts_with("s3:getobject")
                    || (a.starts_with("s3:") && a.contains('*'))),
                "{file}: {a} lists or reads object-level data"
            );
        }
    }
    let template = repo_file("template.yaml");
    let member = repo_file("infra/org/member-role.yaml");
    for text in [&template, &member] {
        assert!(
            text.contains("s3:GetBucketLocation"),
            "the bucket check stays possible"
        );
    }
    assert!(checked > 50, "{checked}");
}

/// What the code writes agrees with what the roles allow: each function's
/// families scan the demo estate in moto (which enforces no IAM) into an
/// empty table, and every item left behind is in a partition that
/// function's role may write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scans_write_only_the_partitions_their_role_allows() {
    use crate::support::{Env, SharedBuf, all_items, attr, config};
    use zw_app::FamilyKind;
    let roles = table_write_partitions();
    for (kind, role) in [
        (FamilyKind::CERTIFICATES, "ScanCertificatesRole"),
        (FamilyKind::DNS, "ScanDnsRole"),
        (FamilyKind::HEALTH, "ScanHealthRole"),
        (FamilyKind::ENDPOINTS, "ScanEndpointsRole"),
        (FamilyKind::QUERY_LOGS, "ScanQueryLogsRole"),
    ] {
        let (mut env, _estate) = Env::with_demo_estate().await;
        // Nothing answers these: the scans record their errors, which is
        // enough to exercise every write path.
        env.config = config(&[
            ("ZW_DNS_ROOT_HINTS", "127.0.0.1:9"),
            ("ZW_DNS_TIMEOUT_MS", "100"),
            ("ZW_TLS_TIMEOUT_MS", "300"),
            ("ZW_AWS_IP_RANGES_URL", "http://127.0.0.1:9/ip-ranges.json"),
        ]);
        if kind == FamilyKind::HEALTH {
            use aws_sdk_route53::types::{HealthCheckConfig, HealthCheckType};
            aws_sdk_route53::Client::new(&env.sdk)
                .create_health_check()
                .caller_reference("partitions")
                .health_check_config(
                    HealthCheckConfig::builder()
                        .r#type(HealthCheckType::Https)
                        .fully_qualified_domain_name("www.example.com")
                        .port(443)
                        .build()
                        .expect("config"),
                )
                .send()
                .await
                .expect("health check");
        }
        let deps = zw_lambda::Deps::with_sdk(
            env.config.clone(),
            &env.sdk,
            &[kind],
            zw_aws::metrics::EmfSink::to_writer(Box::new(SharedBuf::default())),
        )
        .expect("deps");
        // Twice: the second scan finds what the first left (cursors,
        // caches, open findings) and updates it.
        for i in 0..2 {
            let _ = zw_lambda::scan(
                &deps,
                format!("partitions-{i}"),
                "manual".into(),
                Default::default(),
                None,
                None,
                None,
            )
            .await;
        }
        let items = all_items(&env.ddb()).await;
        let pks: std::collections::BTreeSet<&str> = items.iter().map(|i| attr(i, "pk")).collect();
        // What each family must have written, so that the check below
        // covers its write paths.
        let expected: &[&str] = match kind {
            FamilyKind::CERTIFICATES => &["SCAN#", "FINDING", "HISTORY#", "BUDGET#"],
            FamilyKind::DNS => &["SCAN#", "FINDING", "HISTORY#", "INVENTORY#", "BUDGET#"],
            FamilyKind::HEALTH => &["SCAN#", "HEALTH", "BUDGET#"],
            FamilyKind::ENDPOINTS => &["SCAN#", "FINDING", "HISTORY#", "BUDGET#"],
            // The demo estate's zones log no queries: `querylog.logging-off`.
            FamilyKind::QUERY_LOGS => &["SCAN#", "FINDING", "HISTORY#", "BUDGET#"],
            other => panic!("what does the {other} family write? add it here"),
        };
        for prefix in expected {
            assert!(
                pks.iter().any(|p| p.starts_with(prefix)),
                "{role}: no {prefix} item written: {pks:?}"
            );
        }
        for pk in &pks {
            assert!(
                [
                    "dynamodb:PutItem",
                    "dynamodb:BatchWriteItem",
                    "dynamodb:UpdateItem"
                ]
                .iter()
                .any(|a| may_write(&roles, role, a, pk)),
                "{role} wrote {pk}, which its role may not write"
            );
        }
    }
}

/// `!GetAtt X.Arn` (either spelling, possibly inside `!If`) -> X.
fn get_att_names(v: &Value, out: &mut Vec<String>) {
    if let Some((f, arg)) = intrinsic(v) {
        match f.as_str() {
            "GetAtt" => {
                let target = match arg {
                    Value::String(s) => s.split('.').next().unwrap_or_default().to_owned(),
                    Value::Sequence(parts) => parts[0].as_str().unwrap_or_default().to_owned(),
                    _ => String::new(),
                };
                out.push(target);
            }
            _ => get_att_names(arg, out),
        }
        return;
    }
    match v {
        Value::Sequence(items) => items.iter().for_each(|i| get_att_names(i, out)),
        Value::Mapping(m) => m.values().for_each(|i| get_att_names(i, out)),
        _ => {}
    }
}

/// Finding events go to the stack's own bus, whose policy denies
/// `events:PutEvents` to every principal but exactly the roles that put
/// finding events; every rule on zonewarden events listens there, and no
/// role puts on the default bus.
#[test]
fn finding_events_go_to_a_bus_only_our_functions_can_put_to() {
    let t = template();
    let resources = t["Resources"].as_mapping().expect("resources");
    let bus = &t["Resources"]["FindingsBus"];
    assert_eq!(bus["Type"].as_str(), Some("AWS::Events::EventBus"));
    let statements = bus["Properties"]["Policy"]["Statement"]
        .as_sequence()
        .expect("the bus has a policy");
    let deny = statements
        .iter()
        .find(|s| s["Effect"].as_str() == Some("Deny"))
        .expect("a Deny statement");
    assert_eq!(deny["Principal"].as_str(), Some("*"));
    assert_eq!(as_strings(&deny["Action"]), ["events:PutEvents"]);
    let mut allowed = Vec::new();
    get_att_names(
        &deny["Condition"]["ArnNotEquals"]["aws:PrincipalArn"],
        &mut allowed,
    );
    allowed.sort();
    // The roles that put events, as their own policies say.
    let mut putters = Vec::new();
    for (name, r) in resources {
        let name = name.as_str().expect("name");
        if r["Type"].as_str() != Some("AWS::IAM::Role") {
            continue;
        }
        let mut actions = Vec::new();
        actions_in(&r["Properties"]["Policies"], &mut actions);
        if actions.iter().any(|a| a == "events:PutEvents") {
            let text = format!("{:?}", r["Properties"]["Policies"]);
            assert!(
                text.contains("event-bus/zonewarden-${AWS::StackName}")
                    && !text.contains("event-bus/default"),
                "{name} puts events on the findings bus only: {text}"
            );
            putters.push(name.to_owned());
        }
    }
    putters.sort();
    assert_eq!(
        allowed, putters,
        "the bus lets exactly the putting roles in"
    );
    assert!(putters.len() >= 5, "{putters:?}");
    // Functions that send events name the bus; every rule on zonewarden
    // events (plain rules and SAM's EventBridgeRule events) listens on it.
    let mut rules = 0;
    for (name, r) in resources {
        let name = name.as_str().expect("name");
        let props = &r["Properties"];
        if r["Type"].as_str() == Some("AWS::Serverless::Function")
            && !props["Environment"]["Variables"]["ZW_NOTIFY"].is_null()
        {
            let bus_env = format!(
                "{:?}",
                props["Environment"]["Variables"]["ZW_EVENT_BUS_NAME"]
            );
            assert!(
                bus_env.contains("FindingsBus"),
                "{name}: ZW_EVENT_BUS_NAME is {bus_env}, not the findings bus"
            );
        }
        let mut patterns = vec![(props["EventPattern"].clone(), props["EventBusName"].clone())];
        if let Some(events) = props["Events"].as_mapping() {
            for e in events.values() {
                patterns.push((
                    e["Properties"]["Pattern"].clone(),
                    e["Properties"]["EventBusName"].clone(),
                ));
            }
        }
        for (pattern, bus_name) in patterns {
            if format!("{:?}", pattern["source"]).contains("\"zonewarden\"") {
                rules += 1;
                assert!(
                    format!("{bus_name:?}").contains("FindingsBus"),
                    "{name}: a rule on zonewarden events listens on {bus_name:?}"
                );
            }
        }
    }
    assert!(rules >= 5, "{rules}");
}

/// `ProbeAllowCidrs` deploys exactly what the code accepts, and reaches
/// every function that probes.
#[test]
fn probe_allow_cidrs_deploy_what_the_code_accepts() {
    let p = pattern("ProbeAllowCidrs");
    for ok in [
        "",
        "10.0.0.0/8",
        "10.0.0.0/8,fd00::/8",
        "127.0.0.0/8, 192.168.0.0/16",
    ] {
        assert!(p.is_match(ok), "{ok}");
        let vars = [("AWS_REGION", "eu-west-1"), ("ZW_PROBE_ALLOW_CIDRS", ok)];
        assert!(zw_core::Config::from_vars(vars).is_ok(), "{ok}");
    }
    for bad in [
        "10.0.0.0",
        "everything",
        "10.0.0.0/8;fd00::/8",
        "10.0.0.0/8,",
    ] {
        assert!(!p.is_match(bad), "{bad}");
    }
    let t = template();
    for f in [
        "ScanCertificatesFunction",
        "ScanDnsFunction",
        "ScanHealthFunction",
        "ScanEndpointsFunction",
        "ScanAccountFunction",
    ] {
        let v =
            &t["Resources"][f]["Properties"]["Environment"]["Variables"]["ZW_PROBE_ALLOW_CIDRS"];
        assert!(format!("{v:?}").contains("ProbeAllowCidrs"), "{f}: {v:?}");
    }
}
