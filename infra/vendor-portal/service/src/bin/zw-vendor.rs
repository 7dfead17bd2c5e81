//! `zw-vendor`: the vendor's admin command and local listener. Output is
//! JSON on stdout; logs and errors go to stderr.

use anyhow::{Context, Result, bail};
use chrono::{DateTime, NaiveDate, Utc};
use clap::{Parser, Subcommand};
use serde_json::{Value, json};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use zw_license::{KeyPair, Limits, SubscriptionStatus};
use zw_vendor::model::{Customer, LicenseKey, Subscription};
use zw_vendor::setup::{self, ServeOptions};
use zw_vendor::{Clock, Config, DynamoStore, SystemClock, VendorStore, service};

/// The vendor side of zonewarden licensing.
///
/// Configuration comes from the environment: ZW_VENDOR_TABLE (all commands),
/// ZW_VENDOR_SIGNING_KEY or ZW_VENDOR_SIGNING_KEY_PARAMETER and
/// ZW_VENDOR_STAFF_TOKEN or ZW_VENDOR_STAFF_TOKEN_PARAMETER (serve),
/// ZW_VENDOR_RATE_LIMIT (validations per key and minute, default 20), and the
/// usual AWS variables (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL for moto).
#[derive(Debug, Parser)]
#[command(name = "zw-vendor", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Make a new Ed25519 signing key: the private key (base64 PKCS#8) goes
    /// to --out (mode 0600), the public key (base64url) is printed.
    Keygen {
        #[arg(long)]
        out: PathBuf,
    },
    /// Serve the API and the portal on a local listener (tests, the demo).
    Serve {
        /// Where to listen, e.g. 127.0.0.1:8088 (port 0: any free port).
        #[arg(long)]
        addr: SocketAddr,
        /// Append every body received on /v1/licenses/validate to FILE as a
        /// JSON line {"body": "<the body as received>"}.
        #[arg(long)]
        capture: Option<PathBuf>,
        /// Write the bound address to FILE once listening.
        #[arg(long)]
        ready_file: Option<PathBuf>,
    },
    /// The DynamoDB table (local runs; in AWS the template creates it).
    Table {
        #[command(subcommand)]
        command: TableCommand,
    },
    /// Customers and their subscriptions.
    Customer {
        #[command(subcommand)]
        command: CustomerCommand,
    },
    /// Every customer (JSON array).
    Customers {
        #[command(subcommand)]
        command: CustomersCommand,
    },
    /// License keys.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// A customer's subscription.
    Subscription {
        #[command(subcommand)]
        command: SubscriptionCommand,
    },
}

#[derive(Debug, Subcommand)]
enum TableCommand {
    /// Create the table (on-demand, encrypted, TTL on expires_at).
    Create,
}

#[derive(Debug, Subcommand)]
enum CustomerCommand {
    /// Create a customer with a subscription; prints the id and the portal token (shown once).
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        plan: String,
        #[arg(long)]
        zones: u32,
        #[arg(long)]
        certificates: u32,
        #[arg(long)]
        accounts: u32,
        /// active, trialing, past_due or cancelled
        #[arg(long, value_parser = parse_status)]
        status: SubscriptionStatus,
        /// RFC 3339 (2027-01-01T00:00:00Z) or a date (2027-01-01)
        #[arg(long, value_parser = parse_time)]
        renews_at: DateTime<Utc>,
    },
}

#[derive(Debug, Subcommand)]
enum CustomersCommand {
    /// List every customer with their subscription.
    List,
}

#[derive(Debug, Subcommand)]
enum KeyCommand {
    /// Issue a new key; prints it in full, the only time it is shown.
    Issue {
        #[arg(long)]
        customer: String,
    },
    /// Revoke the customer's key ending in LAST4.
    Revoke {
        #[arg(long)]
        customer: String,
        #[arg(long)]
        last4: String,
    },
}

#[derive(Debug, Subcommand)]
enum SubscriptionCommand {
    /// Change a subscription's status (and renewal date, plan or limits).
    Set {
        #[arg(long)]
        customer: String,
        #[arg(long, value_parser = parse_status)]
        status: SubscriptionStatus,
        #[arg(long, value_parser = parse_time)]
        renews_at: Option<DateTime<Utc>>,
        #[arg(long)]
        plan: Option<String>,
        #[arg(long)]
        zones: Option<u32>,
        #[arg(long)]
        certificates: Option<u32>,
        #[arg(long)]
        accounts: Option<u32>,
    },
}

fn parse_status(s: &str) -> Result<SubscriptionStatus, String> {
    SubscriptionStatus::parse(s)
        .ok_or_else(|| format!("{s:?}: use active, trialing, past_due or cancelled"))
}

fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| format!("{s:?}: use RFC 3339 (2027-01-01T00:00:00Z) or a date (2027-01-01)"))
}

fn print(value: &Value) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

fn customer_json(c: &Customer) -> Value {
    let s = &c.subscription;
    json!({
        "customer_id": c.id,
        "name": c.name,
        "plan": s.plan,
        "limits": {"zones": s.limits.zones, "certificates": s.limits.certificates, "accounts": s.limits.accounts},
        "status": s.status.as_str(),
        "renews_at": s.renews_at.to_rfc3339(),
        "created_at": c.created_at.to_rfc3339(),
    })
}

fn key_json(k: &LicenseKey) -> Value {
    json!({
        "customer_id": k.customer_id,
        "license_id": k.license_id,
        "last4": k.last4,
        "state": k.state.as_str(),
        "created_at": k.created_at.to_rfc3339(),
        "revoked_at": k.revoked_at.map(|t| t.to_rfc3339()),
    })
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    let clock = SystemClock;
    if let Command::Keygen { out } = &cli.command {
        return keygen(out);
    }
    let config = Config::from_vars(std::env::vars())?;
    let sdk = setup::load_sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let store = DynamoStore::new(client.clone(), &config.table);
    match cli.command {
        Command::Keygen { .. } => Ok(()),
        Command::Serve {
            addr,
            capture,
            ready_file,
        } => serve(&config, &sdk, addr, capture, ready_file).await,
        Command::Table {
            command: TableCommand::Create,
        } => {
            zw_vendor::dynamo::create_table(&client, &config.table)
                .await
                .with_context(|| format!("creating table {}", config.table))?;
            print(&json!({"table": config.table}))
        }
        Command::Customer {
            command:
                CustomerCommand::Create {
                    name,
                    plan,
                    zones,
                    certificates,
                    accounts,
                    status,
                    renews_at,
                },
        } => {
            let sub = Subscription {
                plan,
                limits: Limits {
                    zones,
                    certificates,
                    accounts,
                },
                status,
                renews_at,
            };
            let (customer, token) =
                service::create_customer(&store, &name, sub, clock.now()).await?;
            let mut out = customer_json(&customer);
            out["portal_token"] = json!(token);
            print(&out)
        }
        Command::Customers {
            command: CustomersCommand::List,
        } => {
            let all = store.customers().await?;
            print(&Value::Array(all.iter().map(customer_json).collect()))
        }
        Command::Key {
            command: KeyCommand::Issue { customer },
        } => {
            let issued = service::issue_key(&store, &customer, clock.now()).await?;
            print(&serde_json::to_value(&issued)?)
        }
        Command::Key {
            command: KeyCommand::Revoke { customer, last4 },
        } => {
            let key = service::revoke_by_last4(&store, &customer, &last4, clock.now()).await?;
            print(&key_json(&key))
        }
        Command::Subscription {
            command:
                SubscriptionCommand::Set {
                    customer,
                    status,
                    renews_at,
                    plan,
                    zones,
                    certificates,
                    accounts,
                },
        } => {
            let Some(mut c) = store.customer(&customer).await? else {
                bail!("no customer {customer} (see `zw-vendor customers list`)");
            };
            let s = &mut c.subscription;
            s.status = status;
            s.renews_at = renews_at.unwrap_or(s.renews_at);
            s.plan = plan.unwrap_or_else(|| s.plan.clone());
            s.limits.zones = zones.unwrap_or(s.limits.zones);
            s.limits.certificates = certificates.unwrap_or(s.limits.certificates);
            s.limits.accounts = accounts.unwrap_or(s.limits.accounts);
            store.set_subscription(&customer, &c.subscription).await?;
            print(&customer_json(&c))
        }
    }
}

fn keygen(out: &std::path::Path) -> Result<()> {
    let kp = KeyPair::generate()?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(out)
        .with_context(|| format!("creating {} (it must not exist yet)", out.display()))?;
    writeln!(file, "{}", kp.to_base64())?;
    print(&json!({
        "private_key_file": out.display().to_string(),
        "public_key": kp.public().to_base64url(),
    }))
}

async fn serve(
    config: &Config,
    sdk: &aws_config::SdkConfig,
    addr: SocketAddr,
    capture: Option<PathBuf>,
    ready_file: Option<PathBuf>,
) -> Result<()> {
    let options = ServeOptions {
        // Plain http: a browser drops `Secure` cookies over it except on
        // loopback, where we leave the flag off; anywhere else a TLS proxy
        // is assumed in front.
        secure_cookies: !addr.ip().is_loopback(),
        capture,
        clock: Arc::new(SystemClock),
    };
    let vendor = setup::vendor(config, sdk, options).await?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("listening on {addr}"))?;
    let bound = listener.local_addr()?;
    if let Some(path) = ready_file {
        // Written whole, then renamed: a reader never sees half an address.
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, bound.to_string())?;
        std::fs::rename(&tmp, &path)?;
    }
    tracing::info!(%bound, table = %config.table, "zw-vendor serving");
    axum::serve(listener, zw_vendor::web::router(Arc::new(vendor)))
        .with_graceful_shutdown(shutdown())
        .await?;
    Ok(())
}

async fn shutdown() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
}
