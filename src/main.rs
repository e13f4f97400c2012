//! The `palaver` binary: parse the command line, set up logging, dispatch.

use std::process::ExitCode;

use palaver::cli::{Cli, Command};
use palaver::config::Config;
use palaver::{admin, telemetry, Application};

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

    match cli.command.unwrap_or_default() {
        Command::Serve => {
            telemetry::init(&config.log);
            exit_code(serve(config))
        }
        Command::Migrate => {
            telemetry::init(&config.log);
            exit_code(palaver::db::migrate_only(&config))
        }
        // The admin commands speak through their output and exit status;
        // only warnings are logged.
        Command::User(command) => {
            telemetry::init("warn");
            admin::finish(admin::users::run(command, &config))
        }
        Command::Room(command) => {
            telemetry::init("warn");
            admin::finish(admin::rooms::run(command, &config))
        }
        Command::Backup { file } => {
            telemetry::init("warn");
            admin::finish(admin::backup::run(&config, &file))
        }
    }
}

fn exit_code(result: anyhow::Result<()>) -> ExitCode {
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
