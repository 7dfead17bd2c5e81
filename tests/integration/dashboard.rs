//! The dashboards and alarms of template.yaml against what the code
//! publishes. For every deployment the template allows that changes them
//! (each `DeploymentMode`, each `MetricsDetail`, licensing off and on), the
//! dashboard bodies are rendered as CloudFormation would (`!Sub`, its
//! variables, `!If` on the template's own conditions) and parsed as JSON;
//! then every metric a widget draws and every alarm reads must be a series
//! that deployment publishes, by name, namespace and dimension set. What is
//! published comes from the code's catalogue (`zw_core::metrics::Metric`,
//! `zw_core::org::published`), never from a list kept here.
//!
//! Also held here: every alarm is on its mode's dashboard, alarm texts name
//! only widgets that are drawn (double quotes in an alarm text name a
//! widget) and only series that are published, durations come from
//! parameters, the timeout lines of the duration graphs are the functions'
//! timeouts, and every scheduled function has a heartbeat alarm whose window
//! is longer than the slowest schedule its parameter accepts.

use serde_json::Value as Json;
use serde_norway::Value as Yaml;
use std::collections::{BTreeMap, BTreeSet};
use zw_core::metrics::{Detail, Metric};

const STACK: &str = "teststack";
const REGION: &str = "eu-west-1";

fn template_text() -> String {
    let path = format!("{}/../template.yaml", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).expect("template")
}

fn parse(text: &str) -> Yaml {
    serde_norway::from_str(text).expect("YAML")
}

/// A short-form intrinsic (`!Sub x`) as (name, argument).
fn intrinsic(v: &Yaml) -> Option<(String, &Yaml)> {
    match v {
        Yaml::Tagged(t) => Some((
            t.tag.to_string().trim_start_matches('!').to_owned(),
            &t.value,
        )),
        _ => None,
    }
}

fn scalar_text(v: &Yaml) -> Option<String> {
    match v {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Number(n) => Some(n.to_string()),
        Yaml::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// One deployment: parameter values (defaults unless chosen) and what the
/// template creates with them.
struct Deployment<'t> {
    t: &'t Yaml,
    params: BTreeMap<String, String>,
    label: String,
}

impl<'t> Deployment<'t> {
    fn new(t: &'t Yaml, chosen: &[(&str, &str)]) -> Self {
        let mut params = BTreeMap::new();
        for (k, p) in t["Parameters"].as_mapping().expect("parameters") {
            let name = k.as_str().expect("name").to_owned();
            params.insert(name, scalar_text(&p["Default"]).unwrap_or_default());
        }
        for (k, v) in chosen {
            assert!(params.contains_key(*k), "no parameter {k}");
            params.insert((*k).to_owned(), (*v).to_owned());
        }
        let label = chosen
            .iter()
            .map(|(k, v)| format!("{k}={v:?}"))
            .collect::<Vec<_>>()
            .join(" ");
        Self { t, params, label }
    }

    fn resource(&self, name: &str) -> Option<&'t Yaml> {
        self.t["Resources"].get(name)
    }

    /// Whether the template creates the resource in this deployment.
    fn creates(&self, name: &str) -> bool {
        self.resource(name)
            .is_some_and(|r| match r.get("Condition") {
                None => true,
                Some(c) => self.condition(c.as_str().expect("condition name")),
            })
    }

    fn resources_of(&self, kind: &str) -> Vec<&'t str> {
        self.t["Resources"]
            .as_mapping()
            .expect("resources")
            .iter()
            .filter(|(_, r)| r["Type"].as_str() == Some(kind))
            .map(|(k, _)| k.as_str().expect("name"))
            .filter(|k| self.creates(k))
            .collect()
    }

    fn condition(&self, name: &str) -> bool {
        let c = self.t["Conditions"]
            .get(name)
            .unwrap_or_else(|| panic!("no condition {name}"));
        self.truth(c)
    }

    fn truth(&self, v: &Yaml) -> bool {
        let (f, arg) = intrinsic(v).unwrap_or_else(|| panic!("not a condition: {v:?}"));
        let args = || arg.as_sequence().expect("arguments").iter();
        match f.as_str() {
            "Equals" => {
                let both: Vec<String> = args().map(|a| self.text(a)).collect();
                both[0] == both[1]
            }
            "Not" => !self.truth(&arg[0]),
            "And" => args().all(|a| self.truth(a)),
            "Or" => args().any(|a| self.truth(a)),
            "Condition" => self.condition(arg.as_str().expect("name")),
            other => panic!("condition function {other} is not evaluated here"),
        }
    }

    /// A value as CloudFormation resolves it: a string, `!Ref`, `!Sub`,
    /// `!If`. A resource reads as `@Name` (`@Name.Attr` for an attribute)
    /// and must exist in this deployment.
    fn text(&self, v: &Yaml) -> String {
        if let Some(s) = scalar_text(v) {
            return s;
        }
        let (f, arg) = intrinsic(v).unwrap_or_else(|| panic!("cannot resolve {v:?}"));
        match f.as_str() {
            "Ref" => self.reference(arg.as_str().expect("a name")),
            "Sub" => self.sub(arg),
            "If" => {
                let cond = arg[0].as_str().expect("condition name");
                self.text(&arg[if self.condition(cond) { 1 } else { 2 }])
            }
            other => panic!("{other} is not evaluated here"),
        }
    }

    fn reference(&self, name: &str) -> String {
        match name {
            "AWS::StackName" => STACK.to_owned(),
            "AWS::Region" => REGION.to_owned(),
            "AWS::AccountId" => "111122223333".to_owned(),
            "AWS::Partition" => "aws".to_owned(),
            "AWS::URLSuffix" => "amazonaws.com".to_owned(),
            _ => {
                if let Some(p) = self.params.get(name) {
                    return p.clone();
                }
                let resource = name.split('.').next().unwrap_or(name);
                assert!(
                    self.creates(resource),
                    "{}: a reference to {name}, which this deployment does not create",
                    self.label
                );
                format!("@{name}")
            }
        }
    }

    /// `!Sub text` or `!Sub [text, {variables}]`.
    fn sub(&self, arg: &Yaml) -> String {
        let (text, vars) = match arg {
            Yaml::Sequence(s) => (
                s[0].as_str().expect("!Sub text"),
                s[1].as_mapping()
                    .expect("!Sub variables")
                    .iter()
                    .map(|(k, v)| (k.as_str().expect("name").to_owned(), self.text(v)))
                    .collect(),
            ),
            other => (other.as_str().expect("!Sub text"), BTreeMap::new()),
        };
        let mut out = String::new();
        let mut rest = text;
        while let Some(i) = rest.find("${") {
            out.push_str(&rest[..i]);
            let after = &rest[i + 2..];
            if let Some(literal) = after.strip_prefix('!') {
                out.push_str("${");
                rest = literal;
                continue;
            }
            let end = after.find('}').expect("closing brace");
            let name = &after[..end];
            out.push_str(&match vars.get(name) {
                Some(v) => v.clone(),
                None => self.reference(name),
            });
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        out
    }

    fn mode(&self) -> Mode {
        match self.params["DeploymentMode"].as_str() {
            "single" => Mode::Single,
            "organization" => Mode::Organization,
            other => panic!("DeploymentMode {other}: say here what it publishes"),
        }
    }

    /// The detail level the functions run at, as the code reads
    /// `ZW_METRICS_DETAIL` (the template passes `MetricsDetail`).
    fn detail(&self) -> Detail {
        zw_core::Config::from_vars([
            ("AWS_REGION", REGION),
            ("ZW_METRICS_DETAIL", self.params["MetricsDetail"].as_str()),
        ])
        .unwrap_or_else(|e| panic!("{}: the code refuses it: {e}", self.label))
        .common
        .metrics_detail
    }

    /// The namespace every function publishes to (`ZW_METRICS_NAMESPACE`).
    fn namespace(&self) -> String {
        let mut found = BTreeSet::new();
        for f in self.resources_of("AWS::Serverless::Function") {
            let env = &self.t["Resources"][f]["Properties"]["Environment"]["Variables"];
            if let Some(ns) = env.get("ZW_METRICS_NAMESPACE") {
                found.insert(self.text(ns));
            }
        }
        assert_eq!(found.len(), 1, "one namespace: {found:?}");
        found.into_iter().next().unwrap_or_default()
    }

    /// Every (namespace, name, dimension names) this deployment publishes.
    fn published(&self) -> BTreeSet<Series> {
        let metrics: Vec<Metric> = match self.mode() {
            Mode::Single => {
                let detail = self.detail();
                Metric::ALL
                    .iter()
                    .copied()
                    .filter(|m| m.published_by_scans_at(detail))
                    .collect()
            }
            Mode::Organization => zw_core::org::published().collect(),
        };
        let ns = self.namespace();
        metrics
            .into_iter()
            .map(|m| {
                let s = m.spec();
                let mut dims: BTreeSet<String> = ["Stack".to_owned()].into();
                dims.extend(s.dimension.map(str::to_owned));
                (ns.clone(), s.name.to_owned(), dims)
            })
            .collect()
    }

    /// The Timeout of every function, in seconds.
    fn timeouts(&self) -> BTreeMap<String, f64> {
        self.resources_of("AWS::Serverless::Function")
            .into_iter()
            .filter_map(|f| {
                let t = self.t["Resources"][f]["Properties"].get("Timeout")?;
                Some((format!("@{f}"), self.text(t).parse().expect("seconds")))
            })
            .collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Single,
    Organization,
}

type Series = (String, String, BTreeSet<String>);

/// Every deployment that changes the dashboards and alarms: each mode and
/// each detail level the template allows, licensing off and on.
fn deployments(t: &Yaml) -> Vec<Deployment<'_>> {
    let allowed = |p: &str| -> Vec<String> {
        t["Parameters"][p]["AllowedValues"]
            .as_sequence()
            .unwrap_or_else(|| panic!("{p} has AllowedValues"))
            .iter()
            .map(|v| scalar_text(v).expect("value"))
            .collect()
    };
    let mut out = Vec::new();
    for mode in allowed("DeploymentMode") {
        for detail in allowed("MetricsDetail") {
            for license in ["", "https://license.example.com/v1/licenses/validate"] {
                out.push(Deployment::new(
                    t,
                    &[
                        ("DeploymentMode", mode.as_str()),
                        ("MetricsDetail", detail.as_str()),
                        ("LicenseEndpoint", license),
                        ("LicenseKeyParameter", "/zonewarden/license-key"),
                    ],
                ));
            }
        }
    }
    out
}

/// A dashboard as drawn: its widgets' titles and what they reference.
#[derive(Default)]
struct Drawn {
    titles: BTreeSet<String>,
    alarms: BTreeSet<String>,
}

/// The metric series of a `SEARCH('{Namespace,Dim,...} terms', ...)`:
/// (namespace, MetricName term, dimension names, Stack term).
fn searches(expression: &str) -> Vec<(String, String, BTreeSet<String>, String)> {
    let search = regex_lite::Regex::new(r"SEARCH\('\{([^}]*)\}([^']*)'").expect("regex");
    let term = |text: &str, key: &str| -> String {
        regex_lite::Regex::new(&format!(r#"{key}="([^"]*)""#))
            .expect("regex")
            .captures(text)
            .map(|c| c[1].to_owned())
            .unwrap_or_default()
    };
    search
        .captures_iter(expression)
        .map(|c| {
            let mut schema = c[1].split(',').map(|s| s.trim().to_owned());
            let ns = schema.next().unwrap_or_default();
            let dims: BTreeSet<String> = schema.collect();
            (ns, term(&c[2], "MetricName"), dims, term(&c[2], "Stack"))
        })
        .collect()
}

/// Checks one rendered dashboard; returns what it draws.
fn check_dashboard(
    d: &Deployment<'_>,
    name: &str,
    body: &Json,
    published: &BTreeSet<Series>,
    problems: &mut Vec<String>,
) -> Drawn {
    let mut drawn = Drawn::default();
    let timeouts = d.timeouts();
    let widgets = body["widgets"].as_array().expect("widgets");
    for w in widgets {
        let props = &w["properties"];
        let title = props["title"].as_str().unwrap_or_default().to_owned();
        let at = format!("{} {name} widget {title:?}", d.label);
        if !title.is_empty() {
            drawn.titles.insert(title.clone());
        }
        match w["type"].as_str() {
            Some("metric") => {
                let rows = props["metrics"].as_array().cloned().unwrap_or_default();
                if rows.is_empty() {
                    problems.push(format!("{at}: no metric"));
                }
                let mut ids = BTreeSet::new();
                let mut expressions = Vec::new();
                let mut durations = BTreeSet::new();
                for row in &rows {
                    let row = row.as_array().expect("a metric row is an array");
                    let options = row.last().filter(|o| o.is_object());
                    if let Some(id) = options.and_then(|o| o["id"].as_str()) {
                        ids.insert(id.to_owned());
                    }
                    if let Some(expr) = row.first().and_then(|o| o["expression"].as_str()) {
                        let found = searches(expr);
                        for (ns, metric, dims, stack) in &found {
                            if stack != STACK {
                                problems.push(format!("{at}: SEARCH of stack {stack:?}"));
                            }
                            let series = (ns.clone(), metric.clone(), dims.clone());
                            if !published.contains(&series) {
                                problems.push(format!(
                                    "{at}: {series:?} is not published by this deployment"
                                ));
                            }
                        }
                        if found.is_empty() {
                            expressions.push(expr.to_owned());
                        }
                        continue;
                    }
                    let strings: Vec<&str> = row.iter().filter_map(Json::as_str).collect();
                    if strings.len() < 2
                        || !strings.len().is_multiple_of(2)
                        || strings.contains(&".")
                    {
                        problems.push(format!("{at}: spell every row out: {row:?}"));
                        continue;
                    }
                    let (ns, metric) = (strings[0], strings[1]);
                    let dims: BTreeMap<&str, &str> =
                        strings[2..].chunks(2).map(|kv| (kv[0], kv[1])).collect();
                    if ns.starts_with("AWS/") {
                        check_aws_dimensions(d, &at, ns, &dims, problems);
                        if (ns, metric) == ("AWS/Lambda", "Duration") {
                            durations.extend(dims.get("FunctionName").map(|f| (*f).to_owned()));
                        }
                        continue;
                    }
                    if dims.get("Stack") != Some(&STACK) {
                        problems.push(format!("{at}: {metric} without Stack={STACK}"));
                    }
                    let series = (
                        ns.to_owned(),
                        metric.to_owned(),
                        dims.keys().map(|k| (*k).to_owned()).collect(),
                    );
                    if !published.contains(&series) {
                        problems.push(format!(
                            "{at}: {series:?} is not published by this deployment"
                        ));
                    }
                }
                // Metric math over rows of the widget: its ids must exist.
                let word = regex_lite::Regex::new(r"\b[a-z][A-Za-z0-9_]*\b").expect("regex");
                for expr in expressions {
                    for id in word.find_iter(&expr) {
                        if !ids.contains(id.as_str()) {
                            problems.push(format!("{at}: {expr:?} reads no row {}", id.as_str()));
                        }
                    }
                }
                check_timeouts(&at, props, &durations, &timeouts, problems);
            }
            Some("alarm") => {
                for a in props["alarms"].as_array().cloned().unwrap_or_default() {
                    let arn = a.as_str().unwrap_or_default();
                    match arn.strip_prefix('@').and_then(|r| r.strip_suffix(".Arn")) {
                        Some(alarm)
                            if d.resource(alarm).is_some_and(|r| {
                                r["Type"].as_str() == Some("AWS::CloudWatch::Alarm")
                            }) =>
                        {
                            drawn.alarms.insert(alarm.to_owned());
                        }
                        _ => problems.push(format!("{at}: {arn:?} is not an alarm of the stack")),
                    }
                }
            }
            Some("log") => {
                let query = props["query"].as_str().unwrap_or_default();
                let source = regex_lite::Regex::new(r"SOURCE '([^']*)'").expect("regex");
                let groups: Vec<&str> = source
                    .captures_iter(query)
                    .filter_map(|c| c.get(1))
                    .map(|m| m.as_str())
                    .collect();
                if groups.is_empty() {
                    problems.push(format!("{at}: a query without SOURCE"));
                }
                for g in groups {
                    let is_group = g
                        .strip_prefix('@')
                        .and_then(|r| d.resource(r))
                        .is_some_and(|r| r["Type"].as_str() == Some("AWS::Logs::LogGroup"));
                    if !is_group {
                        problems.push(format!("{at}: {g} is not a log group of the stack"));
                    }
                }
            }
            Some("text") => {}
            other => problems.push(format!("{at}: widget type {other:?} is not checked here")),
        }
    }
    drawn
}

/// AWS namespaces: the dimension must name one of this stack's resources
/// of the right type.
fn check_aws_dimensions(
    d: &Deployment<'_>,
    at: &str,
    ns: &str,
    dims: &BTreeMap<&str, &str>,
    problems: &mut Vec<String>,
) {
    let kind = match ns {
        "AWS/Lambda" => ("FunctionName", "AWS::Serverless::Function"),
        "AWS/States" => ("StateMachineArn", "AWS::Serverless::StateMachine"),
        other => {
            problems.push(format!("{at}: namespace {other} is not checked here"));
            return;
        }
    };
    let ok = dims.len() == 1
        && dims.get(kind.0).is_some_and(|v| {
            v.strip_prefix('@')
                .and_then(|r| d.resource(r))
                .is_some_and(|r| r["Type"].as_str() == Some(kind.1))
        });
    if !ok {
        problems.push(format!(
            "{at}: {ns} by {dims:?}, not one {} of the stack",
            kind.0
        ));
    }
}

/// A graph's timeout lines are functions' timeouts, and a graph of Lambda
/// durations draws the timeout of every function it shows.
fn check_timeouts(
    at: &str,
    props: &Json,
    durations: &BTreeSet<String>,
    timeouts: &BTreeMap<String, f64>,
    problems: &mut Vec<String>,
) {
    let lines: Vec<f64> = props["annotations"]["horizontal"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter(|a| {
            a["label"]
                .as_str()
                .is_some_and(|l| l.to_lowercase().contains("timeout"))
        })
        .filter_map(|a| a["value"].as_f64())
        .collect();
    for v in &lines {
        if !timeouts.values().any(|t| t == v) {
            problems.push(format!(
                "{at}: a timeout line at {v}, no function's timeout"
            ));
        }
    }
    for f in durations {
        let t = timeouts.get(f).copied().unwrap_or_default();
        if !lines.contains(&t) {
            problems.push(format!("{at}: no timeout line for {f} ({t} s)"));
        }
    }
}

/// The longest interval between runs an EventBridge schedule can have:
/// a literal rate, or the slowest rate the parameter's AllowedPattern
/// accepts (cron() expressions cannot be bounded this way; the parameters'
/// descriptions say how often they must fire).
fn slowest_schedule_seconds(d: &Deployment<'_>, schedule: &Yaml) -> u64 {
    let seconds = |rate: &str| -> Option<u64> {
        let inner = rate.strip_prefix("rate(")?.strip_suffix(')')?;
        let (n, unit) = inner.split_once(' ')?;
        let n: u64 = n.parse().ok()?;
        Some(
            n * match unit.trim_end_matches('s') {
                "minute" => 60,
                "hour" => 3600,
                "day" => 86_400,
                _ => return None,
            },
        )
    };
    if let Some((f, arg)) = intrinsic(schedule)
        && f == "Ref"
    {
        let name = arg.as_str().expect("parameter");
        let pattern = d.t["Parameters"][name]["AllowedPattern"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: a schedule parameter needs an AllowedPattern"));
        thread_local! {
            // Probing a pattern takes some ten thousand matches: once each.
            static SLOWEST: std::cell::RefCell<BTreeMap<String, u64>> = Default::default();
        }
        if let Some(s) = SLOWEST.with(|c| c.borrow().get(pattern).copied()) {
            return s;
        }
        let re = regex_lite::Regex::new(&format!("^(?:{pattern})$")).expect("regex");
        let mut slowest = 0;
        for (unit, max) in [("minute", 60 * 24 * 7), ("hour", 24 * 7), ("day", 14)] {
            for n in 1..=max {
                let rate = if n == 1 {
                    format!("rate(1 {unit})")
                } else {
                    format!("rate({n} {unit}s)")
                };
                if re.is_match(&rate) {
                    slowest = slowest.max(seconds(&rate).unwrap_or(0));
                }
            }
        }
        SLOWEST.with(|c| c.borrow_mut().insert(pattern.to_owned(), slowest));
        return slowest;
    }
    let literal = d.text(schedule);
    seconds(&literal).unwrap_or_else(|| panic!("schedule {literal}: not a rate()"))
}

/// Checks the alarms of one deployment against what it publishes and draws.
fn check_alarms(
    d: &Deployment<'_>,
    published: &BTreeSet<Series>,
    drawn: &Drawn,
    problems: &mut Vec<String>,
) {
    let published_names: BTreeSet<&str> = published.iter().map(|(_, n, _)| n.as_str()).collect();
    let catalogue_names: BTreeSet<&str> = Metric::ALL.iter().map(|m| m.spec().name).collect();
    let quoted = regex_lite::Regex::new(r#""([^"]*)""#).expect("regex");
    let word = regex_lite::Regex::new(r"[A-Za-z0-9]+").expect("regex");
    let seconds = regex_lite::Regex::new(r"\b\d+ ?(s|sec|seconds)\b").expect("regex");
    for name in d.resources_of("AWS::CloudWatch::Alarm") {
        let props = &d.t["Resources"][name]["Properties"];
        let at = format!("{} {name}", d.label);
        if !drawn.alarms.contains(name) {
            problems.push(format!("{at}: not on the dashboard's alarm widget"));
        }
        let ns = d.text(&props["Namespace"]);
        let metric = d.text(&props["MetricName"]);
        let dims: BTreeMap<String, String> = props["Dimensions"]
            .as_sequence()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|x| (d.text(&x["Name"]), d.text(&x["Value"])))
            .collect();
        if ns.starts_with("AWS/") {
            let dims: BTreeMap<&str, &str> =
                dims.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            check_aws_dimensions(d, &at, &ns, &dims, problems);
        } else {
            if dims.get("Stack").map(String::as_str) != Some(STACK) {
                problems.push(format!("{at}: {metric} without Stack={STACK}"));
            }
            let series = (ns, metric, dims.keys().cloned().collect());
            if !published.contains(&series) {
                problems.push(format!(
                    "{at}: {series:?} is not published by this deployment"
                ));
            }
        }

        let raw = format!("{:?}", props["AlarmDescription"]);
        if let Some(m) = seconds.find(&raw) {
            problems.push(format!(
                "{at}: {:?} in the text: derive durations from the parameters",
                m.as_str()
            ));
        }
        let text = d.text(&props["AlarmDescription"]);
        for c in quoted.captures_iter(&text) {
            if !drawn.titles.contains(&c[1]) {
                problems.push(format!(
                    "{at}: the text names widget {:?}, not drawn",
                    &c[1]
                ));
            }
        }
        for w in word.find_iter(&text) {
            let w = w.as_str();
            if catalogue_names.contains(w) && !published_names.contains(w) {
                problems.push(format!("{at}: the text names {w}, not published"));
            }
        }
    }
}

/// Every scheduled function of the deployment has a heartbeat alarm (its
/// Lambda Invocations below 1 over a window longer than the slowest
/// schedule its parameter allows, missing data breaching), and every
/// heartbeat alarm watches a function whose schedule runs.
fn check_heartbeats(d: &Deployment<'_>, problems: &mut Vec<String>) {
    let mut heartbeats: BTreeMap<String, (&str, u64)> = BTreeMap::new();
    for name in d.resources_of("AWS::CloudWatch::Alarm") {
        let p = &d.t["Resources"][name]["Properties"];
        let is_heartbeat = p["Namespace"].as_str() == Some("AWS/Lambda")
            && p["MetricName"].as_str() == Some("Invocations")
            && p["ComparisonOperator"].as_str() == Some("LessThanThreshold")
            && p["Threshold"].as_u64() == Some(1)
            && p["TreatMissingData"].as_str() == Some("breaching");
        if !is_heartbeat {
            continue;
        }
        let window =
            p["Period"].as_u64().unwrap_or(0) * p["EvaluationPeriods"].as_u64().unwrap_or(0);
        let function = d.text(&p["Dimensions"][0]["Value"]);
        heartbeats.insert(function, (name, window));
    }
    let mut scheduled = BTreeSet::new();
    for f in d.resources_of("AWS::Serverless::Function") {
        // Any invocation feeds the heartbeat: the function's most frequent
        // schedule must fire within its window (the certificate function's
        // daily domains schedule rides on its hourly one).
        let mut fastest: Option<(String, u64)> = None;
        let events = d.t["Resources"][f]["Properties"]["Events"]
            .as_mapping()
            .cloned()
            .unwrap_or_default();
        for (event, e) in events {
            let event = event.as_str().unwrap_or_default();
            if e["Type"].as_str() != Some("Schedule") {
                continue;
            }
            let state = e["Properties"]
                .get("State")
                .map_or("ENABLED".to_owned(), |s| d.text(s));
            let enabled = e["Properties"]["Enabled"].as_bool().unwrap_or(true);
            if state != "ENABLED" || !enabled {
                continue;
            }
            let at = format!("{} {f} {event}", d.label);
            let slowest = slowest_schedule_seconds(d, &e["Properties"]["Schedule"]);
            if fastest.as_ref().is_none_or(|(_, s)| slowest < *s) {
                fastest = Some((at, slowest));
            }
        }
        let Some((at, slowest)) = fastest else {
            continue;
        };
        scheduled.insert(format!("@{f}"));
        match heartbeats.get(&format!("@{f}")) {
            None => problems.push(format!("{at}: a scheduled function without heartbeat")),
            Some((alarm, window)) if *window <= slowest => problems.push(format!(
                "{at}: {alarm} waits {window} s, the schedule may wait {slowest} s"
            )),
            Some(_) => {}
        }
    }
    for (function, (alarm, _)) in &heartbeats {
        if !scheduled.contains(function) {
            problems.push(format!(
                "{} {alarm}: a heartbeat of {function}, which no schedule runs here",
                d.label
            ));
        }
    }
}

/// Everything above, for every deployment; the problems found.
fn problems_of(t: &Yaml) -> Vec<String> {
    let mut problems = Vec::new();
    for d in deployments(t) {
        let published = d.published();
        let mut drawn = Drawn::default();
        let dashboards = d.resources_of("AWS::CloudWatch::Dashboard");
        if dashboards.len() != 1 {
            problems.push(format!("{}: dashboards {dashboards:?}", d.label));
        }
        for name in dashboards {
            let text = d.text(&d.t["Resources"][name]["Properties"]["DashboardBody"]);
            let body: Json = match serde_json::from_str(&text) {
                Ok(b) => b,
                Err(e) => {
                    problems.push(format!("{} {name}: not JSON: {e}", d.label));
                    continue;
                }
            };
            let one = check_dashboard(&d, name, &body, &published, &mut problems);
            drawn.titles.extend(one.titles);
            drawn.alarms.extend(one.alarms);
        }
        check_alarms(&d, &published, &drawn, &mut problems);
        check_heartbeats(&d, &mut problems);
    }
    problems
}

#[test]
fn every_widget_and_alarm_reads_what_the_deployment_publishes() {
    let t = parse(&template_text());
    let problems = problems_of(&t);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The checks saw what they check: both modes, both levels.
    let ds = deployments(&t);
    assert!(ds.len() >= 8, "{}", ds.len());
    let single_full = ds
        .iter()
        .find(|d| d.mode() == Mode::Single && d.detail() == Detail::Full)
        .expect("single, full");
    assert!(
        single_full
            .published()
            .iter()
            .any(|(_, n, _)| n == "OpenFindingsByCode")
    );
}

/// The failures the test exists for, each made on a copy of the template
/// (the first occurrence of each text replaced).
fn problems_with(edits: &[(&str, &str)]) -> String {
    let mut text = template_text();
    for (from, to) in edits {
        assert!(text.contains(from), "{from}");
        text = text.replacen(from, to, 1);
    }
    problems_of(&parse(&text)).join("\n")
}

#[test]
fn a_widget_of_a_series_not_published_at_the_default_is_refused() {
    // The detail graphs drawn at every level.
    let p = problems_with(&[(
        "    - !Equals [!Ref MetricsDetail, full]\n",
        "    - !Not [!Equals [!Ref MetricsDetail, nothing]]\n",
    )]);
    assert!(
        p.contains(r#"MetricsDetail="minimal" LicenseEndpoint="" LicenseKeyParameter="/zonewarden/license-key" Dashboard widget "Open findings by code": ("Zonewarden", "OpenFindingsByCode""#),
        "{p}"
    );
    // A series by a dimension the code never publishes it by.
    let p = problems_with(&[(
        r#"[ "Zonewarden", "ScanErrors", "Stack", "${AWS::StackName}", { "label": "ScanErrors (max per scan)""#,
        r#"[ "Zonewarden", "ScanErrors", "Stack", "${AWS::StackName}", "Region", "eu-west-1", { "label": "ScanErrors (max per scan)""#,
    )]);
    assert!(
        p.contains(r#"widget "Scan errors": ("Zonewarden", "ScanErrors", {"Region", "Stack"})"#),
        "{p}"
    );
}

#[test]
fn an_alarm_on_a_series_never_published_is_refused() {
    let p = problems_with(&[(
        "      MetricName: UnhealthyHealthChecks\n",
        "      MetricName: UnhealthyHealthCheck\n",
    )]);
    assert!(
        p.contains("UnhealthyHealthChecksAlarm: (\"Zonewarden\", \"UnhealthyHealthCheck\""),
        "{p}"
    );
}

#[test]
fn alarm_texts_name_only_drawn_widgets_and_no_literal_durations() {
    let p = problems_with(&[(
        "'widget \"Open findings by severity\"']",
        "'widget \"Open findings by code\"']",
    )]);
    assert!(
        p.contains(
            "CriticalFindingsAlarm: the text names widget \"Open findings by code\", not drawn"
        ),
        "{p}"
    );
    let p = problems_with(&[(
        "too many regions or certificates for ${FunctionTimeoutSeconds} seconds",
        "too many regions or certificates for 300 seconds",
    )]);
    assert!(
        p.contains("FunctionErrorsAlarm: \"300 seconds\" in the text"),
        "{p}"
    );
}

#[test]
fn a_scheduled_function_without_a_heartbeat_is_refused() {
    // The endpoints schedule allowed rates slower than its heartbeat waits.
    let p = problems_with(&[(
        "          Value: !Ref ScanEndpointsFunction\n      Statistic: Sum\n      Period: 3600\n      EvaluationPeriods: 25\n",
        "          Value: !Ref ScanEndpointsFunction\n      Statistic: Sum\n      Period: 3600\n      EvaluationPeriods: 24\n",
    )]);
    assert!(
        p.contains("EndpointsScanHeartbeatAlarm waits 86400 s, the schedule may wait 86400 s"),
        "{p}"
    );
    let p = problems_with(&[(
        "      MetricName: Invocations\n      Dimensions:\n        - Name: FunctionName\n          Value: !Ref ScanHealthFunction\n",
        "      MetricName: Errors\n      Dimensions:\n        - Name: FunctionName\n          Value: !Ref ScanHealthFunction\n",
    )]);
    assert!(
        p.contains("ScanHealthFunction Schedule: a scheduled function without heartbeat"),
        "{p}"
    );
}
