//! The `palaver` binary: read the config file, parse the command line, set
//! up logging, dispatch.

use std::ffi::OsString;
use std::process::ExitCode;

use palaver::cli::{Cli, Command};
use palaver::config::Config;
use palaver::{admin, config_file, telemetry, Application};

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    // First, while the process has one thread: the file's settings become
    // `CHAT_*` variables, under the flags and the real environment.
    let file = match config_file::load(&args) {
        Ok(file) => file,
        Err(err) => {
            eprintln!("palaver: {err}");
            return ExitCode::from(2);
        }
    };
    let cli = match Cli::try_parse_from_args(&args) {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    let config = match Config::from_cli(&cli) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("palaver: invalid configuration: {}", file.explain(&err));
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
        Command::Config => admin::finish(admin::config_report::run(&file, &args)),
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
