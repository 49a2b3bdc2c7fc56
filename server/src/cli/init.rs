//! `rust-echo init` (alias `configure`): write a `laravel-echo-server.json`, asking the questions
//! laravel-echo-server's `configure` asks, or taking the answers from flags with `--yes`.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::{Value, json};

/// Answers, as flags; with `--yes` nothing is asked.
#[derive(Debug, Clone, clap::Args)]
pub struct InitArgs {
    /// The file to write.
    #[arg(long, default_value = "laravel-echo-server.json")]
    pub config: PathBuf,
    /// Take every answer from the flags (or their defaults) without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Run in development mode.
    #[arg(long)]
    pub dev_mode: bool,
    /// The port to listen on.
    #[arg(long, default_value = "6001")]
    pub port: String,
    /// The Laravel app's URL, for channel authorization.
    #[arg(long, default_value = "http://localhost")]
    pub auth_host: String,
    /// http or https.
    #[arg(long, default_value = "http")]
    pub protocol: String,
    /// Certificate file (https).
    #[arg(long, default_value = "")]
    pub ssl_cert_path: String,
    /// Key file (https).
    #[arg(long, default_value = "")]
    pub ssl_key_path: String,
    /// Generate an HTTP API client id and key.
    #[arg(long)]
    pub client: bool,
    /// Add CORS headers to HTTP API responses.
    #[arg(long)]
    pub cors: bool,
    /// Access-Control-Allow-Origin.
    #[arg(long, default_value = "http://localhost:80")]
    pub allow_origin: String,
    /// Access-Control-Allow-Methods.
    #[arg(long, default_value = "GET, POST")]
    pub allow_methods: String,
    /// Access-Control-Allow-Headers.
    #[arg(
        long,
        default_value = "Origin, Content-Type, X-Auth-Token, X-Requested-With, Accept, Authorization, X-CSRF-TOKEN, X-Socket-Id"
    )]
    pub allow_headers: String,
}

pub(super) fn run(args: &InitArgs) -> ExitCode {
    let mut a = args.clone();
    if !a.yes {
        let stdin = std::io::stdin();
        let mut ask = Asker {
            input: stdin.lock(),
        };
        a.dev_mode = ask.yes_no(
            "Do you want to run this server in development mode?",
            a.dev_mode,
        );
        a.port = ask.text("Which port would you like to serve from?", &a.port);
        a.auth_host = ask.text(
            "Enter the host of your Laravel authentication server.",
            &a.auth_host,
        );
        a.protocol = ask.text("Will you be serving on http or https?", &a.protocol);
        if a.protocol == "https" {
            a.ssl_cert_path = ask.text("Enter the path to your SSL cert file.", &a.ssl_cert_path);
            a.ssl_key_path = ask.text("Enter the path to your SSL key file.", &a.ssl_key_path);
        }
        a.client = ask.yes_no(
            "Do you want to generate a client ID/Key for HTTP API?",
            a.client,
        );
        a.cors = ask.yes_no(
            "Do you want to setup cross domain access to the API?",
            a.cors,
        );
        if a.cors {
            a.allow_origin = ask.text("Specify the URI that may access the API:", &a.allow_origin);
            a.allow_methods = ask.text(
                "Enter the HTTP methods that are allowed for CORS:",
                &a.allow_methods,
            );
            a.allow_headers = ask.text(
                "Enter the HTTP headers that are allowed for CORS:",
                &a.allow_headers,
            );
        }
    }
    if a.protocol != "http" && a.protocol != "https" {
        eprintln!(
            "Error: the protocol must be http or https, not {:?}",
            a.protocol
        );
        return ExitCode::FAILURE;
    }
    let mut clients = Vec::new();
    if a.client {
        match (
            super::clients::random_hex(8),
            super::clients::random_hex(16),
        ) {
            (Ok(app_id), Ok(key)) => {
                println!("appId: {app_id}");
                println!("key: {key}");
                clients.push(json!({ "appId": app_id, "key": key }));
            }
            (Err(e), _) | (_, Err(e)) => {
                eprintln!("Error: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let config = json!({
        "authHost": a.auth_host,
        "authEndpoint": "/broadcasting/auth",
        "clients": clients,
        "database": "redis",
        "databaseConfig": { "redis": {} },
        "devMode": a.dev_mode,
        "host": Value::Null,
        "port": a.port,
        "protocol": a.protocol,
        "socketio": {},
        "secureOptions": 67_108_864,
        "sslCertPath": a.ssl_cert_path,
        "sslKeyPath": a.ssl_key_path,
        "sslCertChainPath": "",
        "sslPassphrase": "",
        "subscribers": { "http": true, "redis": true },
        "apiOriginAllow": {
            "allowCors": a.cors,
            "allowOrigin": if a.cors { a.allow_origin.as_str() } else { "" },
            "allowMethods": if a.cors { a.allow_methods.as_str() } else { "" },
            "allowHeaders": if a.cors { a.allow_headers.as_str() } else { "" },
        },
    });
    match super::write_config(&a.config, &config) {
        Ok(()) => {
            println!("Configuration file saved. Run rust-echo start to run the server.");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("Error: {e}");
            ExitCode::FAILURE
        }
    }
}

struct Asker<R> {
    input: R,
}

impl<R: BufRead> Asker<R> {
    fn line(&mut self, prompt: &str) -> String {
        print!("? {prompt} ");
        let _ = std::io::stdout().flush();
        let mut answer = String::new();
        let _ = self.input.read_line(&mut answer);
        answer.trim().to_owned()
    }

    fn text(&mut self, question: &str, default: &str) -> String {
        let answer = self.line(&format!("{question} ({default})"));
        if answer.is_empty() {
            default.to_owned()
        } else {
            answer
        }
    }

    fn yes_no(&mut self, question: &str, default: bool) -> bool {
        let hint = if default { "(Y/n)" } else { "(y/N)" };
        match self
            .line(&format!("{question} {hint}"))
            .to_lowercase()
            .as_str()
        {
            "y" | "yes" => true,
            "n" | "no" => false,
            _ => default,
        }
    }
}
