//! The `palaver` binary: parse the command line, set up logging, dispatch.

use std::process::ExitCode;

use palaver::cli::{Cli, Command};
use palaver::config::Config;
use palaver::{telemetry, Application};

fn main() -> ExitCode {
    let cli = match Cli::parse_or_exit_code() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    let config = match Config::from_cli(&cli) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("palaver: invalid configuration: {err}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&config.log);

    let result = match cli.command.unwrap_or_default() {
        Command::Serve => serve(config),
        Command::Migrate => palaver::db::migrate_only(&config),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("palaver: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn serve(config: Config) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(config).await?;
        tracing::info!(address = %app.address(), "Palaver is listening");
        app.run_until_signal().await
    })
}
