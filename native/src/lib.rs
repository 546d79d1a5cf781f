//! tracedat's native core: a zero-copy trace.dat reader and the hot loops, behind a narrow
//! N-API surface (handles, Buffers, numbers and strings).
//!
//! Module map, one concept each: [`bytes`] (endian-explicit checked reads), [`error`],
//! [`header`] (initial header), [`sections`] (v7 section headers and strings), [`options`],
//! [`compression`] (zlib/zstd and trace-cmd's block framing), [`file`] (the whole file's
//! layout), [`dump`] (`trace-cmd dump` text), [`source`] (mapped files), [`napi`] (the FFI).

mod bytes;
mod compression;
mod dump;
mod error;
mod file;
mod header;
mod napi;
mod options;
mod sections;
mod source;
mod validate;

use std::sync::Arc;

use napi::{Args, Env, Field, JsError, JsResult, RawEnv, RawValue};

/// An opened trace: its bytes and the map of its layout.
pub struct Opened {
    source: Source,
    trace: file::Trace,
}

use source::Source;

type Handle = Arc<Opened>;

impl From<error::Error> for JsError {
    fn from(e: error::Error) -> JsError {
        JsError {
            code: "ERR_TRACEDAT_FORMAT",
            message: e.to_string(),
            fields: vec![
                ("section", Field::Str(e.section)),
                ("offset", Field::Num(e.offset as f64)),
                ("expected", Field::Str(e.expected)),
            ],
        }
    }
}

fn opened(source: Source) -> Result<Handle, JsError> {
    let trace = file::Trace::parse(source.bytes())?;
    Ok(Arc::new(Opened { source, trace }))
}

/// `open(path)`: maps the file read-only and parses its layout.
fn open(env: Env, args: &Args) -> JsResult {
    let path = args.string(0)?;
    let source = Source::open(&path).map_err(|e| JsError {
        code: "ERR_TRACEDAT_IO",
        message: format!("cannot open: {e}"),
        fields: vec![("errno", Field::Num(e.raw_os_error().unwrap_or(0) as f64))],
    })?;
    env.external(opened(source)?)
}

/// `openBytes(buffer)`: parses a copy of a Buffer (e.g. a .zip member).
fn open_bytes(env: Env, args: &Args) -> JsResult {
    let bytes = args.buffer(0)?.to_vec();
    env.external(opened(Source::Owned(bytes))?)
}

/// `dump(handle, verbosity, fileName)` → `{ out: Buffer, error?: Error }`.
fn dump(env: Env, args: &Args) -> JsResult {
    let h = args.external::<Handle>(0)?.clone();
    let verbosity = args.index(1)? as u32;
    let name = args.string(2)?;
    let (out, err) = dump::dump(&h.trace, h.source.bytes(), &name, verbosity);
    let out = env.buffer(&out)?;
    match err {
        None => env.object(&[("out", out)]),
        Some(e) => {
            let e = JsError::from(e);
            let message = env.string(&e.message)?;
            let mut fields = vec![("out", out), ("message", message)];
            let mut values = Vec::new();
            for (name, f) in &e.fields {
                values.push((*name, match f {
                    Field::Str(s) => env.string(s)?,
                    Field::Num(n) => env.number(*n)?,
                }));
            }
            fields.extend(values);
            env.object(&fields)
        }
    }
}

/// `validate(handle)`: the checks of `dump -v` beyond the metadata (see [`validate`]); throws
/// the first damage found.
fn validate(env: Env, args: &Args) -> JsResult {
    let h = args.external::<Handle>(0)?.clone();
    validate::cpu_data(&h.trace, h.source.bytes())?;
    env.undefined()
}

/// Entry point called by node when the addon is loaded.
///
/// # Safety
/// Called by node with a live env and exports object.
#[no_mangle]
pub unsafe extern "C" fn napi_register_module_v1(env: RawEnv, exports: RawValue) -> RawValue {
    // Panics are caught at every entry point and rethrown as JS errors; keep the default hook
    // from printing a backtrace to the user's terminal as well.
    std::panic::set_hook(Box::new(|_| {}));
    let functions: [(&std::ffi::CStr, napi::Function); 4] =
        [(c"open", open), (c"openBytes", open_bytes), (c"dump", dump), (c"validate", validate)];
    for (name, f) in functions {
        if !napi::export(env, exports, name, f) {
            return std::ptr::null_mut();
        }
    }
    exports
}
