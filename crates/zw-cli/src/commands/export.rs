//! `zonewarden export --out FILE [--since WHEN] [--kind K]...`.

use crate::args::{AwsArgs, ExportArgs, since};
use crate::exit::{CliError, EXIT_OK, EXIT_USAGE, failed, usage};
use std::io::Write;
use zw_core::ports::Clock;

/// `zonewarden export --out FILE [--since WHEN] [--kind K]...`.
pub async fn export(aws: &AwsArgs, a: &ExportArgs) -> Result<u8, CliError> {
    let now = zw_aws::SystemClock.now();
    let selection = zw_aws::export::Selection {
        kinds: a.kinds.clone(),
        since: a.since.as_deref().map(|s| since(s, now)).transpose()?,
    };
    let known: Vec<&str> = zw_aws::export::KINDS.iter().map(|(_, k)| *k).collect();
    if let Some(bad) = a.kinds.iter().find(|k| !known.contains(&k.as_str())) {
        return Err(usage(format!(
            "--kind: `{bad}` is not a kind ({})",
            known.join(", ")
        )));
    }
    let app = crate::session::central_sdk(aws, &a.table).await?.0;
    let Some(store) = app.services.store.clone() else {
        return Ok(EXIT_USAGE);
    };
    let to_stdout = a.out.as_os_str() == "-";
    let mut sink: Box<dyn Write> = if to_stdout {
        Box::new(std::io::stdout().lock())
    } else {
        match std::fs::File::create(&a.out) {
            Ok(f) => Box::new(std::io::BufWriter::new(f)),
            Err(e) => return Err(usage(format!("--out {}: {e}", a.out.display()))),
        }
    };
    let counts =
        match zw_aws::export::export(store.client(), store.table(), &selection, &mut *sink).await {
            Ok(c) => c,
            Err(e) => return failed(format!("{e} (the file holds what was read before)")),
        };
    sink.flush()?;
    drop(sink);
    let kinds: Vec<String> = counts
        .by_kind
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    writeln!(
        std::io::stderr().lock(),
        "Exported {} item(s){} ({}) in format {}.",
        counts.total,
        if to_stdout {
            String::new()
        } else {
            format!(" to {}", a.out.display())
        },
        if kinds.is_empty() {
            "none".into()
        } else {
            kinds.join(", ")
        },
        zw_aws::export::FORMAT
    )?;
    Ok(EXIT_OK)
}
