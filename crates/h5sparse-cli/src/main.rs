//! `h5sparse`: list, dump, slice, copy and import HDF5 sparse matrices, with no libhdf5.
//!
//! The command-line interface is fixed by `shared/spec/cli.md`: every command exits 0 on
//! success and 1 on a user error, with one stderr line starting with `error:`.

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod concat;
mod convert;
mod copy;
mod dump;
mod edit;
mod example;
mod import;
mod import10x;
mod json;
mod ls;
mod manifest;
mod mtx;
mod open;
mod progress;
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
    /// Commands that write (import-mtx, import-10x, copy, convert, example): finish
    /// without fsync, like h5py/libhdf5 (the file is complete but may be lost on power loss
    /// shortly after). Default: fsync before the file is renamed into place.
    #[arg(long, global = true)]
    no_fsync: bool,
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
    /// Concatenate AnnData files along observations, on disk (like anndata's concat_on_disk).
    Concat {
        /// The output .h5ad file.
        output: String,
        /// The input .h5ad files.
        #[arg(required = true, num_args = 1..)]
        inputs: Vec<String>,
        /// Variables kept: inner (in every input) or outer (in any input).
        #[arg(long, default_value = "inner")]
        join: String,
        /// Deflate level of X and the layers.
        #[arg(long)]
        gzip: Option<u8>,
        /// Structure versions of the file written (an extension): earliest (default;
        /// superblock 0, v1 object headers, symbol-table groups, v1 B-tree chunk indexes) or
        /// latest (h5py's libver="latest": superblock 3, v2 headers, link messages, layout 4).
        #[arg(long, value_enum, default_value_t = LibVer::Earliest)]
        libver: LibVer,
    },
    /// Append SRC's observations to TARGET (same var_names); rewrites TARGET atomically.
    Append {
        /// The .h5ad file to extend.
        target: String,
        /// The .h5ad file whose observations are appended.
        src: String,
        /// Extension: grow TARGET's arrays in place (O(appended rows)) when it allows it.
        /// Every HDF5 object stays old or new if killed, but anndata refuses a file killed
        /// while obs is swapped; without it TARGET is rewritten atomically.
        #[arg(long)]
        in_place: bool,
    },
    /// Change FILE in place: set or delete an attribute, create a group, delete a link
    /// (an extension; interrupted, FILE reads as before or after).
    Edit {
        /// The HDF5 file to change.
        file: String,
        /// The change.
        #[command(subcommand)]
        action: edit::Action,
    },
    /// Write a MatrixMarket file as a sparse matrix group (or a complete .h5ad file).
    #[command(name = "import-mtx")]
    ImportMtx {
        /// The MatrixMarket coordinate file.
        input: String,
        /// The HDF5 (or .h5ad) file to write.
        output: String,
        /// Group name.
        #[arg(long, default_value = "X")]
        group: String,
        /// Storage order: csr or csc.
        #[arg(long, default_value = "csr")]
        format: String,
        /// Attributes: anndata, h5sparse or 10x.
        #[arg(long, default_value = "anndata")]
        encoding: String,
        /// Deflate level (0-9).
        #[arg(long)]
        gzip: Option<u8>,
        /// Elements per chunk.
        #[arg(long)]
        chunk_elems: Option<u64>,
        /// Structure versions of the file written (an extension): earliest (default;
        /// superblock 0, v1 object headers, symbol-table groups, v1 B-tree chunk indexes) or
        /// latest (h5py's libver="latest": superblock 3, v2 headers, link messages, layout 4).
        #[arg(long, value_enum, default_value_t = LibVer::Earliest)]
        libver: LibVer,
    },
    /// Write a 10x Genomics matrix.h5 as an .h5ad file (cells x genes CSR).
    #[command(name = "import-10x")]
    Import10x {
        /// The 10x Genomics matrix.h5 file.
        input: String,
        /// The .h5ad file to write.
        output: String,
        /// Index of var: gene_symbols (feature names) or gene_ids.
        #[arg(long, default_value = "gene_symbols")]
        var_names: String,
        /// Deflate level (0-9) of X.
        #[arg(long)]
        gzip: Option<u8>,
        /// Elements per chunk of X.
        #[arg(long)]
        chunk_elems: Option<u64>,
        /// Structure versions of the file written (an extension): earliest (default;
        /// superblock 0, v1 object headers, symbol-table groups, v1 B-tree chunk indexes) or
        /// latest (h5py's libver="latest": superblock 3, v2 headers, link messages, layout 4).
        #[arg(long, value_enum, default_value_t = LibVer::Earliest)]
        libver: LibVer,
    },
    /// Replay the 2017 "Sparse matrices with h5py" notebook (writes files under DIR).
    Example {
        /// Folder for the example files (default: the temp dir).
        dir: Option<String>,
    },
    /// Copy every object of IN into a new file OUT (like h5repack).
    Copy {
        /// The HDF5 file to read.
        input: String,
        /// The HDF5 file to write.
        output: String,
        /// Deflate level (0-9) for every dataset of more than one element.
        #[arg(long)]
        gzip: Option<u8>,
        /// Shuffle filter for every dataset of more than one element.
        #[arg(long)]
        shuffle: bool,
        /// Elements per chunk when re-chunking.
        #[arg(long)]
        chunk_elems: Option<u64>,
        /// Structure versions of the file written (an extension): earliest (default;
        /// superblock 0, v1 object headers, symbol-table groups, v1 B-tree chunk indexes) or
        /// latest (h5py's libver="latest": superblock 3, v2 headers, link messages, layout 4).
        #[arg(long, value_enum, default_value_t = LibVer::Earliest)]
        libver: LibVer,
    },
    /// Rewrite a sparse matrix group in the other storage order (CSR <-> CSC), out of core.
    Convert {
        /// The HDF5 file to read.
        input: String,
        /// The sparse matrix group.
        group: String,
        /// The HDF5 file to write.
        output: String,
        /// Group written in OUT (default: GROUP).
        #[arg(long)]
        out_group: Option<String>,
        /// Deflate level (0-9).
        #[arg(long)]
        gzip: Option<u8>,
        /// Elements per chunk.
        #[arg(long)]
        chunk_elems: Option<u64>,
        /// Memory budget in MiB (default 256).
        #[arg(long)]
        mem_mib: Option<u64>,
        /// Structure versions of the file written (an extension): earliest (default;
        /// superblock 0, v1 object headers, symbol-table groups, v1 B-tree chunk indexes) or
        /// latest (h5py's libver="latest": superblock 3, v2 headers, link messages, layout 4).
        #[arg(long, value_enum, default_value_t = LibVer::Earliest)]
        libver: LibVer,
    },
    /// Print a kerchunk reference set: the datasets as Zarr v2 arrays read from FILE.
    Manifest {
        /// The HDF5 file.
        file: String,
        /// Object path (default `/`).
        path: Option<String>,
        /// URL the chunk references point at (default: FILE).
        #[arg(long)]
        url: Option<String>,
    },
    /// Print format, shape, nnz and types of a sparse matrix group as JSON.
    Info {
        /// The HDF5 file.
        file: String,
        /// The sparse matrix group.
        group: String,
    },
}

/// `--libver` of the commands that write a new file (h5py's name for the choice).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum LibVer {
    /// The oldest structure versions that express each object (today's output).
    Earliest,
    /// What libhdf5 1.10+ writes with h5py's `libver="latest"`.
    Latest,
}

impl LibVer {
    /// The writer's format.
    fn format(self) -> h5format::write::Format {
        match self {
            LibVer::Earliest => h5format::write::Format::Earliest,
            LibVer::Latest => h5format::write::Format::Latest,
        }
    }
}

/// Thread-pool size when a command reads a remote file.
const REMOTE_THREADS: usize = 32;

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
    if std::env::var_os("RAYON_NUM_THREADS").is_none()
        && std::env::args().skip(1).any(|a| h5format::io::is_url(&a))
    {
        // Reads of a remote file wait on the network, not the CPU: more pool threads keep
        // more independent reads (and so requests) in flight at once.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(REMOTE_THREADS)
            .build_global();
    }
    if cli.no_fsync {
        h5format::write::set_default_durability(h5format::write::Durability::PageCache);
    }
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
        Command::Manifest { file, path, url } => {
            manifest::run(&mut out, &file, path.as_deref(), url.as_deref())
        }
        Command::Info { file, group } => slice::info(&mut out, &file, &group),
        Command::ImportMtx {
            input,
            output,
            group,
            format,
            encoding,
            gzip,
            chunk_elems,
            libver,
        } => {
            let o = import::ImportOptions {
                group: &group,
                format: &format,
                encoding: &encoding,
                gzip,
                chunk_elems,
                libver: libver.format(),
            };
            import::run(&input, &output, &o)
        }
        Command::Import10x {
            input,
            output,
            var_names,
            gzip,
            chunk_elems,
            libver,
        } => match var_names.as_str() {
            "gene_symbols" | "gene_ids" => import10x::run(
                &input,
                &output,
                &import10x::Import10xOptions {
                    var_ids: var_names == "gene_ids",
                    gzip,
                    chunk_elems,
                    libver: libver.format(),
                },
            ),
            v => Err(UserError(format!(
                "unknown --var-names {v} (gene_symbols or gene_ids)"
            ))),
        },
        Command::Copy {
            input,
            output,
            gzip,
            shuffle,
            chunk_elems,
            libver,
        } => copy::run(
            &input,
            &output,
            &copy::CopyOptions {
                gzip,
                shuffle,
                chunk_elems,
                libver: libver.format(),
            },
        ),
        Command::Convert {
            input,
            group,
            output,
            out_group,
            gzip,
            chunk_elems,
            mem_mib,
            libver,
        } => convert::run(
            &input,
            &group,
            &output,
            &convert::ConvertArgs {
                out_group: out_group.as_deref(),
                gzip,
                chunk_elems,
                mem_mib,
                libver: libver.format(),
            },
        ),
        Command::Concat {
            output,
            inputs,
            join,
            gzip,
            libver,
        } => concat::run_concat(&output, &inputs, &join, gzip, libver.format()),
        Command::Append {
            target,
            src,
            in_place,
        } => concat::run_append(&target, &src, in_place),
        Command::Edit { file, action } => edit::run(&file, &action),
        Command::Example { dir } => example::run(&mut out, dir.as_deref()),
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
