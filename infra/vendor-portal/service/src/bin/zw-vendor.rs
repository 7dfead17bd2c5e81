//! `zw-vendor`: the vendor's admin command and local listener. Output is
//! JSON on stdout; logs and errors go to stderr.

use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
use clap::{Parser, Subcommand};
use serde_json::{Value, json};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use zw_license::{KeyPair, Limits, SubscriptionStatus};
use zw_vendor::model::{Actor, AuditEntry, Customer, LicenseKey, Subscription};
use zw_vendor::service::SubscriptionChange;
use zw_vendor::setup::{self, ServeOptions};
use zw_vendor::{Clock, Config, DynamoStore, Source, SystemClock, VendorStore, service};

/// The vendor side of zonewarden licensing.
///
/// Configuration comes from the environment: ZW_VENDOR_TABLE (all commands),
/// ZW_VENDOR_SIGNING_KEY or ZW_VENDOR_SIGNING_KEY_PARAMETER (serve),
/// ZW_VENDOR_STAFF_USER_POOL_ID and ZW_VENDOR_STAFF_CLIENT_ID (staff sign-in
/// when serving; `staff add` and `staff disable`), ZW_VENDOR_RATE_LIMIT,
/// ZW_VENDOR_UNKNOWN_KEY_LIMIT, ZW_VENDOR_SIGN_IN_LIMIT,
/// ZW_VENDOR_MAX_ACTIVE_KEYS, and the usual AWS variables (AWS_REGION,
/// AWS_PROFILE, AWS_ENDPOINT_URL for moto).
///
/// Every change is recorded in the portal audit log under the AWS identity
/// that ran the command (sts:GetCallerIdentity).
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
    /// The vendor's staff: the Cognito user pool they sign in through.
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
    },
    /// The portal audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Debug, Subcommand)]
enum StaffCommand {
    /// Create a staff user pool and its app client with the template's
    /// settings (local/moto only; in AWS the template creates them). Prints
    /// {"user_pool_id", "client_id"}.
    Pool {
        #[command(subcommand)]
        command: PoolCommand,
    },
    /// Add a staff member. Cognito e-mails them a temporary password, or with
    /// --print-temporary-password none is sent and the password is printed.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        print_temporary_password: bool,
    },
    /// Disable a staff member: no more sign-ins, and their portal sessions
    /// end at once.
    Disable {
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
enum PoolCommand {
    Create {
        #[arg(long, default_value = "zw-vendor-staff")]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// The newest entries first (JSON array).
    List {
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

#[derive(Debug, Subcommand)]
enum TableCommand {
    /// Create the table (on-demand, encrypted, TTL on expires_at).
    Create,
}

#[derive(Debug, Subcommand)]
enum CustomerCommand {
    /// Issue a new portal token (printed once; the old one stops working
    /// and the customer's portal sessions end), or with --revoke only revoke it.
    PortalToken {
        #[arg(long)]
        customer: String,
        #[arg(long)]
        revoke: bool,
    },
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

fn audit_json(e: &AuditEntry) -> Value {
    json!({
        "at": e.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "actor_kind": e.actor.kind(),
        "actor": e.actor.name(),
        "action": e.action.as_str(),
        "customer_id": e.customer_id,
        "detail": e.detail,
        "source": e.source,
        "expires_at": e.expires_at,
    })
}

/// The AWS identity running this command: the audit log's name for it.
async fn admin(sdk: &aws_config::SdkConfig) -> Result<Actor> {
    let me = aws_sdk_sts::Client::new(sdk)
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("{}", aws_sdk_sts::error::DisplayErrorContext(&e)))
        .context("sts:GetCallerIdentity (the audit log names who ran each command)")?;
    Ok(Actor::Admin(
        me.arn().map_or_else(|| "unknown".into(), str::to_owned),
    ))
}

#[cfg(feature = "staff")]
fn staff_pool_id(config: &Config) -> Result<&str> {
    config
        .staff_pool
        .as_ref()
        .map(|p| p.user_pool_id.as_str())
        .context("set ZW_VENDOR_STAFF_USER_POOL_ID and ZW_VENDOR_STAFF_CLIENT_ID (the stack's outputs StaffUserPoolId and StaffClientId)")
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
            let actor = admin(&sdk).await?;
            let (customer, token) =
                service::create_customer(&store, &name, sub, actor, clock.now()).await?;
            let mut out = customer_json(&customer);
            out["portal_token"] = json!(token);
            print(&out)
        }
        Command::Customer {
            command: CustomerCommand::PortalToken { customer, revoke },
        } => {
            let actor = admin(&sdk).await?;
            if revoke {
                service::revoke_portal_token(
                    &store,
                    &customer,
                    actor,
                    &Source::none(),
                    clock.now(),
                )
                .await?;
                print(&json!({"customer_id": customer, "portal_token": null}))
            } else {
                let token = service::reissue_portal_token(
                    &store,
                    &customer,
                    actor,
                    &Source::none(),
                    clock.now(),
                )
                .await?;
                print(&json!({"customer_id": customer, "portal_token": token}))
            }
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
            let actor = admin(&sdk).await?;
            let issued = service::issue_key(
                &store,
                &customer,
                config.max_active_keys,
                actor,
                &Source::none(),
                clock.now(),
            )
            .await?;
            print(&serde_json::to_value(&issued)?)
        }
        Command::Key {
            command: KeyCommand::Revoke { customer, last4 },
        } => {
            let actor = admin(&sdk).await?;
            let key =
                service::revoke_by_last4(&store, &customer, &last4, actor, clock.now()).await?;
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
            let actor = admin(&sdk).await?;
            let change = SubscriptionChange {
                status: Some(status),
                renews_at,
                plan,
                zones,
                certificates,
                accounts,
            };
            let c = service::change_subscription(
                &store,
                &customer,
                &change,
                actor,
                &Source::none(),
                clock.now(),
            )
            .await?;
            print(&customer_json(&c))
        }
        #[cfg(feature = "staff")]
        Command::Staff {
            command:
                StaffCommand::Pool {
                    command: PoolCommand::Create { name },
                },
        } => {
            let pool = aws_sdk_cognitoidentityprovider::Client::new(&sdk);
            let (user_pool_id, client_id) = zw_vendor::staff::create_pool(&pool, &name).await?;
            print(&json!({"user_pool_id": user_pool_id, "client_id": client_id}))
        }
        #[cfg(feature = "staff")]
        Command::Staff {
            command:
                StaffCommand::Add {
                    email,
                    print_temporary_password,
                },
        } => {
            let pool_id = staff_pool_id(&config)?;
            let pool = aws_sdk_cognitoidentityprovider::Client::new(&sdk);
            let actor = admin(&sdk).await?;
            let temporary = if print_temporary_password {
                Some(zw_vendor::secrets::new_temporary_password()?)
            } else {
                None
            };
            let member = service::add_staff(
                &store,
                &pool,
                pool_id,
                &email,
                temporary.as_deref(),
                actor,
                clock.now(),
            )
            .await?;
            print(
                &json!({"email": member.email, "sub": member.sub, "temporary_password": temporary}),
            )
        }
        #[cfg(feature = "staff")]
        Command::Staff {
            command: StaffCommand::Disable { email },
        } => {
            let pool_id = staff_pool_id(&config)?;
            let pool = aws_sdk_cognitoidentityprovider::Client::new(&sdk);
            let actor = admin(&sdk).await?;
            let member =
                service::disable_staff(&store, &pool, pool_id, &email, actor, clock.now()).await?;
            print(&json!({"email": member.email, "sub": member.sub, "disabled": true}))
        }
        #[cfg(not(feature = "staff"))]
        Command::Staff { .. } => anyhow::bail!(
            "this zw-vendor was built without the `staff` feature (no Cognito): build it with `cargo build -p zw-vendor` (the feature is on by default)"
        ),
        Command::Audit {
            command: AuditCommand::List { limit },
        } => {
            let page = store.audit_entries(None, limit).await?;
            print(&Value::Array(page.entries.iter().map(audit_json).collect()))
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
        require_staff_pool: false,
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
    // With the peer address on every request: the per-source limits and
    // the audit log's source addresses.
    let app = zw_vendor::web::router(Arc::new(vendor))
        .into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
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
