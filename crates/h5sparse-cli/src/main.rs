//! `h5sparse`: list, dump, slice, copy and import HDF5 sparse matrices, with no libhdf5.
//!
//! The command-line interface is fixed by `shared/spec/cli.md`: every command exits 0 on
//! success and 1 on a user error, with one stderr line starting with `error:`.

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod dump;
mod json;
mod ls;
mod slice;

/// Command-line arguments.
#[derive(Parser, Debug)]
#[command(
    name = "h5sparse",
    version,
    about = "Read and write HDF5 sparse matrices without libhdf5"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List objects like h5ls.
    Ls {
        /// Recursive.
        #[arg(short)]
        r: bool,
        /// Verbose: attributes, datatype, layout, chunks, filters.
        #[arg(short)]
        v: bool,
        /// The HDF5 file.
        file: String,
        /// Object path (default `/`).
        path: Option<String>,
    },
    /// Print an object and everything below it as one JSON document.
    Dump {
        /// JSON output (the only format).
        #[arg(long)]
        json: bool,
        /// Leave out dataset data.
        #[arg(long)]
        no_data: bool,
        /// The HDF5 file.
        file: String,
        /// Object path (default `/`).
        path: Option<String>,
    },
    /// Print a selection of a sparse matrix group as MatrixMarket.
    Slice {
        /// The HDF5 file.
        file: String,
        /// The sparse matrix group.
        group: String,
        /// Row selection (slice, list, mask:..., or @PATH).
        #[arg(long, allow_hyphen_values = true)]
        rows: Option<String>,
        /// Column selection.
        #[arg(long, allow_hyphen_values = true)]
        cols: Option<String>,
        /// Repeat the selection N times and print timings to stderr.
        #[arg(long)]
        repeat: Option<usize>,
    },
    /// Print format, shape, nnz and types of a sparse matrix group as JSON.
    Info {
        /// The HDF5 file.
        file: String,
        /// The sparse matrix group.
        group: String,
    },
}

/// An error for the user: printed as one `error:` line, exit code 1.
#[derive(Debug)]
pub struct UserError(pub String);

impl<E: std::fmt::Display> From<E> for UserError {
    fn from(e: E) -> Self {
        UserError(e.to_string())
    }
}

fn main() -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        let _ = writeln!(
            std::io::stderr(),
            "error: internal error (a bug in h5sparse): {info}"
        );
    }));
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            let msg = e.to_string();
            let first = msg.lines().next().unwrap_or("invalid arguments");
            let first = first.strip_prefix("error: ").unwrap_or(first);
            eprintln!("error: {first}");
            return ExitCode::from(1);
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let result = match cli.command {
        Command::Ls { r, v, file, path } => ls::run(&mut out, &file, path.as_deref(), r, v),
        Command::Dump {
            json: _,
            no_data,
            file,
            path,
        } => dump::run(&mut out, &file, path.as_deref(), no_data),
        Command::Slice {
            file,
            group,
            rows,
            cols,
            repeat,
        } => slice::slice(
            &mut out,
            &file,
            &group,
            rows.as_deref(),
            cols.as_deref(),
            repeat,
        ),
        Command::Info { file, group } => slice::info(&mut out, &file, &group),
    };
    let result = result.and_then(|()| out.flush().map_err(UserError::from));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(UserError(msg)) => {
            let msg = msg.replace('\n', " ");
            eprintln!("error: {msg}");
            ExitCode::from(1)
        }
    }
}
