//! The N-API boundary, declared by hand.
//!
//! crates.io is out of reach, so instead of the `napi` crates this module declares the two dozen
//! `napi_*` functions the addon uses (they are exported by the `node` binary itself and resolved
//! when the addon is loaded) and wraps them in a small safe surface: [`Env`] to make values,
//! [`Args`] to read arguments, and [`export`] to register a Rust function whose panics and errors
//! become JavaScript exceptions. Every `unsafe` block of the crate that is not a libc or codec
//! call lives here, each with the reason it is sound.
//!
//! Rejected: a C shim compiled by node-gyp (a second toolchain and a 5 MB unstripped .node for
//! no gain), and `napi_wrap` of JS objects (externals are enough: the TypeScript layer owns the
//! objects and keeps the handle private).

use std::any::Any;
use std::cell::{Cell, RefCell, RefMut};
use std::ffi::{c_char, c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

#[repr(C)]
pub struct OpaqueEnv {
    _p: [u8; 0],
}
#[repr(C)]
pub struct OpaqueValue {
    _p: [u8; 0],
}
#[repr(C)]
pub struct OpaqueInfo {
    _p: [u8; 0],
}

pub type RawEnv = *mut OpaqueEnv;
pub type RawValue = *mut OpaqueValue;
type RawInfo = *mut OpaqueInfo;
type Status = c_int;
const OK: Status = 0;

#[repr(C)]
pub struct OpaqueDeferred {
    _p: [u8; 0],
}
#[repr(C)]
pub struct OpaqueWork {
    _p: [u8; 0],
}
type RawDeferred = *mut OpaqueDeferred;
type RawWork = *mut OpaqueWork;

type RawCallback = unsafe extern "C" fn(RawEnv, RawInfo) -> RawValue;
type RawExecute = unsafe extern "C" fn(RawEnv, *mut c_void);
type RawComplete = unsafe extern "C" fn(RawEnv, Status, *mut c_void);
type RawFinalize = unsafe extern "C" fn(RawEnv, *mut c_void, *mut c_void);

/// `napi_valuetype` values we test for.
const TYPE_UNDEFINED: c_int = 0;
const TYPE_NULL: c_int = 1;

extern "C" {
    fn napi_create_function(env: RawEnv, name: *const c_char, len: usize, cb: RawCallback, data: *mut c_void, result: *mut RawValue) -> Status;
    fn napi_set_named_property(env: RawEnv, obj: RawValue, name: *const c_char, v: RawValue) -> Status;
    fn napi_get_cb_info(env: RawEnv, info: RawInfo, argc: *mut usize, argv: *mut RawValue, this: *mut RawValue, data: *mut *mut c_void) -> Status;
    fn napi_typeof(env: RawEnv, v: RawValue, result: *mut c_int) -> Status;
    fn napi_get_buffer_info(env: RawEnv, v: RawValue, data: *mut *mut c_void, len: *mut usize) -> Status;
    fn napi_create_buffer(env: RawEnv, len: usize, data: *mut *mut c_void, result: *mut RawValue) -> Status;
    fn napi_create_double(env: RawEnv, v: f64, result: *mut RawValue) -> Status;
    fn napi_get_value_double(env: RawEnv, v: RawValue, result: *mut f64) -> Status;
    fn napi_get_value_bool(env: RawEnv, v: RawValue, result: *mut bool) -> Status;
    fn napi_get_value_string_utf8(env: RawEnv, v: RawValue, buf: *mut c_char, size: usize, len: *mut usize) -> Status;
    fn napi_create_string_utf8(env: RawEnv, s: *const c_char, len: usize, result: *mut RawValue) -> Status;
    fn napi_create_object(env: RawEnv, result: *mut RawValue) -> Status;
    fn napi_get_undefined(env: RawEnv, result: *mut RawValue) -> Status;
    fn napi_create_error(env: RawEnv, code: RawValue, msg: RawValue, result: *mut RawValue) -> Status;
    fn napi_throw(env: RawEnv, error: RawValue) -> Status;
    fn napi_throw_error(env: RawEnv, code: *const c_char, msg: *const c_char) -> Status;
    fn napi_is_exception_pending(env: RawEnv, result: *mut bool) -> Status;
    fn napi_create_external(env: RawEnv, data: *mut c_void, finalize: RawFinalize, hint: *mut c_void, result: *mut RawValue) -> Status;
    fn napi_get_value_external(env: RawEnv, v: RawValue, result: *mut *mut c_void) -> Status;
    fn napi_create_promise(env: RawEnv, deferred: *mut RawDeferred, promise: *mut RawValue) -> Status;
    fn napi_resolve_deferred(env: RawEnv, deferred: RawDeferred, v: RawValue) -> Status;
    fn napi_reject_deferred(env: RawEnv, deferred: RawDeferred, v: RawValue) -> Status;
    fn napi_create_async_work(
        env: RawEnv,
        resource: RawValue,
        name: RawValue,
        execute: RawExecute,
        complete: RawComplete,
        data: *mut c_void,
        result: *mut RawWork,
    ) -> Status;
    fn napi_queue_async_work(env: RawEnv, work: RawWork) -> Status;
    fn napi_delete_async_work(env: RawEnv, work: RawWork) -> Status;
}

/// An error on its way to JavaScript: a message plus named string/number fields that the
/// TypeScript layer turns into a typed error (`TraceError`).
#[derive(Debug)]
pub struct JsError {
    pub code: &'static str,
    pub message: String,
    pub fields: Vec<(&'static str, Field)>,
}

#[derive(Debug)]
pub enum Field {
    Str(String),
    Num(f64),
}

impl JsError {
    pub fn usage(message: impl Into<String>) -> JsError {
        JsError { code: "ERR_TRACEDAT_USAGE", message: message.into(), fields: Vec::new() }
    }
}

pub type JsResult = Result<RawValue, JsError>;

/// The environment of one call. Its methods create JavaScript values; a failing `napi_*` call
/// (which only happens when the VM is out of memory or terminating) becomes a [`JsError`].
#[derive(Clone, Copy)]
pub struct Env(RawEnv);

fn check(status: Status, what: &str) -> Result<(), JsError> {
    if status == OK {
        Ok(())
    } else {
        Err(JsError { code: "ERR_TRACEDAT_NAPI", message: format!("N-API {what} failed ({status})"), fields: Vec::new() })
    }
}

impl Env {
    pub fn undefined(self) -> JsResult {
        let mut v = ptr::null_mut();
        // SAFETY: self.0 is the live env of the current callback; v is a valid out pointer.
        check(unsafe { napi_get_undefined(self.0, &mut v) }, "get_undefined")?;
        Ok(v)
    }

    pub fn number(self, n: f64) -> JsResult {
        let mut v = ptr::null_mut();
        // SAFETY: as above.
        check(unsafe { napi_create_double(self.0, n, &mut v) }, "create_double")?;
        Ok(v)
    }

    pub fn string(self, s: &str) -> JsResult {
        let mut v = ptr::null_mut();
        // SAFETY: s is valid UTF-8 of s.len() bytes for the duration of the call; node copies it.
        check(unsafe { napi_create_string_utf8(self.0, s.as_ptr().cast(), s.len(), &mut v) }, "create_string_utf8")?;
        Ok(v)
    }

    /// A new Node Buffer holding a copy of `bytes`.
    pub fn buffer(self, bytes: &[u8]) -> JsResult {
        let mut data: *mut c_void = ptr::null_mut();
        let mut v = ptr::null_mut();
        // SAFETY: node allocates `len` writable bytes at `data`, owned by the returned Buffer;
        // we fill exactly that many from a slice that does not overlap it.
        unsafe {
            check(napi_create_buffer(self.0, bytes.len(), &mut data, &mut v), "create_buffer")?;
            if !bytes.is_empty() {
                ptr::copy_nonoverlapping(bytes.as_ptr(), data.cast::<u8>(), bytes.len());
            }
        }
        Ok(v)
    }

    pub fn object(self, props: &[(&str, RawValue)]) -> JsResult {
        let mut obj = ptr::null_mut();
        // SAFETY: as above; property names are NUL-terminated copies that outlive each call.
        check(unsafe { napi_create_object(self.0, &mut obj) }, "create_object")?;
        for (name, value) in props {
            let cname = std::ffi::CString::new(*name).map_err(|_| JsError::usage("bad property name"))?;
            // SAFETY: obj and value were created in this env during this call.
            check(unsafe { napi_set_named_property(self.0, obj, cname.as_ptr(), *value) }, "set_named_property")?;
        }
        Ok(obj)
    }

    /// Moves `value` into a JavaScript external, a handle [`Args::external`] lends out shared;
    /// it is dropped when the external is collected.
    pub fn external<T: Any + 'static>(self, value: T) -> JsResult {
        // A double box: the outer Box<dyn Any> lets `Args::external` check the type at run time,
        // so a handle of the wrong kind passed from JavaScript is an error, not memory corruption.
        let boxed: Box<Box<dyn Any>> = Box::new(Box::new(value));
        let raw = Box::into_raw(boxed).cast::<c_void>();
        let mut v = ptr::null_mut();
        // SAFETY: `raw` is a leaked Box<Box<dyn Any>> that only `finalize_external` reclaims,
        // exactly once, when the garbage collector frees the external.
        let status = unsafe { napi_create_external(self.0, raw, finalize_external, ptr::null_mut(), &mut v) };
        if status != OK {
            // SAFETY: node did not take ownership, so we still own `raw`.
            drop(unsafe { Box::from_raw(raw.cast::<Box<dyn Any>>()) });
        }
        check(status, "create_external")?;
        Ok(v)
    }

    /// Moves `value` into an external that [`Args::external_mut`] lends out exclusively (a
    /// cursor that calls advance): its RefCell is what makes that exclusive, as externals are
    /// only ever reached through shared references.
    pub fn external_mut<T: Any + 'static>(self, value: T) -> JsResult {
        self.external(RefCell::new(value))
    }

    fn throw(self, err: JsError) {
        match self.error_value(err) {
            // SAFETY: e is an Error object of this env.
            Ok(e) => unsafe {
                napi_throw(self.0, e);
            },
            // SAFETY: both strings are static and NUL-terminated.
            Err(_) => unsafe {
                napi_throw_error(self.0, c"ERR_TRACEDAT_NAPI".as_ptr(), c"tracedat: cannot build the error".as_ptr());
            },
        }
    }

    /// A JavaScript Error carrying the message, code and fields of `err`.
    fn error_value(self, err: JsError) -> Result<RawValue, JsError> {
        let build = || -> Result<RawValue, JsError> {
            let code = self.string(err.code)?;
            let msg = self.string(&err.message)?;
            let mut e = ptr::null_mut();
            // SAFETY: code and msg are strings of this env.
            check(unsafe { napi_create_error(self.0, code, msg, &mut e) }, "create_error")?;
            for (name, field) in &err.fields {
                let value = match field {
                    Field::Str(s) => self.string(s)?,
                    Field::Num(n) => self.number(*n)?,
                };
                let cname = std::ffi::CString::new(*name).map_err(|_| JsError::usage("bad field name"))?;
                // SAFETY: e and value belong to this env.
                check(unsafe { napi_set_named_property(self.0, e, cname.as_ptr(), value) }, "set_named_property")?;
            }
            Ok(e)
        };
        build()
    }

    /// Runs `run` on libuv's thread pool and returns a Promise settled by `done(env, value)`
    /// back on the JavaScript thread. `run` must not touch JavaScript values (it gets none);
    /// a panic in it rejects the promise like any error.
    pub fn spawn<T: Send + 'static>(self, run: impl FnOnce() -> Result<T, JsError> + Send + 'static, done: fn(Env, T) -> JsResult) -> JsResult {
        let mut deferred: RawDeferred = ptr::null_mut();
        let mut promise = ptr::null_mut();
        // SAFETY: out pointers are valid; env is live.
        check(unsafe { napi_create_promise(self.0, &mut deferred, &mut promise) }, "create_promise")?;
        let task = Box::new(Task::<T> { run: Some(Box::new(run)), result: None, done, deferred, work: ptr::null_mut() });
        let name = self.string("tracedat")?;
        let raw = Box::into_raw(task);
        let mut work: RawWork = ptr::null_mut();
        // SAFETY: `raw` stays owned by the work item until `complete_task` reclaims it; the
        // execute callback only touches the Rust closure and result inside it.
        let status = unsafe { napi_create_async_work(self.0, ptr::null_mut(), name, execute_task::<T>, complete_task::<T>, raw.cast(), &mut work) };
        if status != OK {
            // SAFETY: the work was not created, so we still own the task.
            drop(unsafe { Box::from_raw(raw) });
            return Err(check(status, "create_async_work").unwrap_err());
        }
        // SAFETY: raw is live and not yet shared with another thread.
        unsafe { (*raw).work = work };
        // SAFETY: work was just created in this env.
        if let Err(e) = check(unsafe { napi_queue_async_work(self.0, work) }, "queue_async_work") {
            // SAFETY: never queued: delete it and take the task back.
            unsafe {
                napi_delete_async_work(self.0, work);
                drop(Box::from_raw(raw));
            }
            return Err(e);
        }
        Ok(promise)
    }
}

/// Work queued by [`Env::spawn`].
struct Task<T> {
    run: Option<Box<dyn FnOnce() -> Result<T, JsError> + Send>>,
    result: Option<std::thread::Result<Result<T, JsError>>>,
    done: fn(Env, T) -> JsResult,
    deferred: RawDeferred,
    work: RawWork,
}

unsafe extern "C" fn execute_task<T: Send>(_env: RawEnv, data: *mut c_void) {
    // SAFETY: data is the Task made by `spawn`; libuv runs execute once, and the JS thread does
    // not touch the task until complete.
    let task = unsafe { &mut *data.cast::<Task<T>>() };
    if let Some(run) = task.run.take() {
        task.result = Some(catch_unwind(AssertUnwindSafe(run)));
    }
}

unsafe extern "C" fn complete_task<T: Send>(env: RawEnv, _status: Status, data: *mut c_void) {
    // SAFETY: data is the Task made by `spawn`, reclaimed exactly once, here.
    let mut task = unsafe { Box::from_raw(data.cast::<Task<T>>()) };
    let (deferred, work, done, result) = (task.deferred, task.work, task.done, task.result.take());
    let env = Env(env);
    let _ = catch_unwind(AssertUnwindSafe(|| {
        let outcome = match result {
            Some(Ok(Ok(v))) => done(env, v),
            Some(Ok(Err(e))) => Err(e),
            Some(Err(_)) => {
                Err(JsError { code: "ERR_TRACEDAT_INTERNAL", message: "tracedat internal error (a bug, please report it)".into(), fields: Vec::new() })
            }
            None => Err(JsError { code: "ERR_TRACEDAT_CANCELLED", message: "the operation was cancelled".into(), fields: Vec::new() }),
        };
        match outcome {
            // SAFETY: deferred belongs to this env and is settled once.
            Ok(v) => unsafe { napi_resolve_deferred(env.0, deferred, v) },
            Err(e) => match env.error_value(e) {
                // SAFETY: as above.
                Ok(err) => unsafe { napi_reject_deferred(env.0, deferred, err) },
                Err(_) => OK,
            },
        }
    }));
    drop(task);
    // SAFETY: the work item is finished and deleted once.
    unsafe { napi_delete_async_work(env.0, work) };
}

unsafe extern "C" fn finalize_external(_env: RawEnv, data: *mut c_void, _hint: *mut c_void) {
    // SAFETY: `data` is the pointer made by `Env::external` from Box::into_raw, finalized once.
    // A panic in a Drop impl must not unwind into node.
    let _ = catch_unwind(AssertUnwindSafe(|| drop(unsafe { Box::from_raw(data.cast::<Box<dyn Any>>()) })));
}

/// The arguments of one call.
pub struct Args {
    env: Env,
    values: [RawValue; 12],
    len: usize,
    /// Whether [`Args::buffer`] has lent out an argument's bytes for reading in this call.
    read: Cell<bool>,
    /// Whether [`Args::buffer_mut`] has lent out an argument's bytes for writing in this call.
    lent: Cell<bool>,
}

impl Args {
    fn get(&self, i: usize) -> Result<RawValue, JsError> {
        if i < self.len.min(self.values.len()) {
            Ok(self.values[i])
        } else {
            Err(JsError::usage(format!("missing argument {i}")))
        }
    }

    pub fn is_nullish(&self, i: usize) -> bool {
        let Ok(v) = self.get(i) else { return true };
        let mut t: c_int = 0;
        // SAFETY: v is an argument of the current call.
        unsafe { napi_typeof(self.env.0, v, &mut t) == OK && (t == TYPE_UNDEFINED || t == TYPE_NULL) }
    }

    pub fn string(&self, i: usize) -> Result<String, JsError> {
        let v = self.get(i)?;
        let mut len = 0usize;
        // SAFETY: a null buffer asks for the length only.
        if unsafe { napi_get_value_string_utf8(self.env.0, v, ptr::null_mut(), 0, &mut len) } != OK {
            return Err(JsError::usage(format!("argument {i} must be a string")));
        }
        let mut buf = vec![0u8; len + 1];
        let mut written = 0usize;
        // SAFETY: buf has len + 1 bytes, room for the string and its NUL.
        check(unsafe { napi_get_value_string_utf8(self.env.0, v, buf.as_mut_ptr().cast(), buf.len(), &mut written) }, "get_value_string_utf8")?;
        buf.truncate(written);
        String::from_utf8(buf).map_err(|_| JsError::usage("string is not UTF-8"))
    }

    pub fn number(&self, i: usize) -> Result<f64, JsError> {
        let v = self.get(i)?;
        let mut n = 0f64;
        // SAFETY: v is an argument of the current call.
        if unsafe { napi_get_value_double(self.env.0, v, &mut n) } != OK {
            return Err(JsError::usage(format!("argument {i} must be a number")));
        }
        Ok(n)
    }

    /// A non-negative integer argument (counts, indexes, flags).
    pub fn index(&self, i: usize) -> Result<usize, JsError> {
        let n = self.number(i)?;
        if n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= (1u64 << 53) as f64 {
            Ok(n as usize)
        } else {
            Err(JsError::usage(format!("argument {i} must be a non-negative integer")))
        }
    }

    pub fn boolean(&self, i: usize) -> Result<bool, JsError> {
        let v = self.get(i)?;
        let mut b = false;
        // SAFETY: v is an argument of the current call.
        if unsafe { napi_get_value_bool(self.env.0, v, &mut b) } != OK {
            return Err(JsError::usage(format!("argument {i} must be a boolean")));
        }
        Ok(b)
    }

    /// The bytes of a Buffer (or any typed array) argument: start and length, null when empty.
    fn bytes_of(&self, i: usize) -> Result<(*mut u8, usize), JsError> {
        let v = self.get(i)?;
        let mut data: *mut c_void = ptr::null_mut();
        let mut len = 0usize;
        // SAFETY: node reports the view's backing store; it stays valid for this call.
        if unsafe { napi_get_buffer_info(self.env.0, v, &mut data, &mut len) } != OK {
            return Err(JsError::usage(format!("argument {i} must be a Buffer")));
        }
        Ok(if len == 0 || data.is_null() { (ptr::null_mut(), 0) } else { (data.cast::<u8>(), len) })
    }

    /// Borrows a Buffer argument. The slice lives as long as the call, during which JavaScript
    /// cannot run and so cannot detach or resize the Buffer.
    pub fn buffer(&self, i: usize) -> Result<&[u8], JsError> {
        if self.lent.get() {
            return Err(JsError::usage("a Buffer argument read after one was lent for writing"));
        }
        self.read.set(true);
        let (data, len) = self.bytes_of(i)?;
        if data.is_null() {
            return Ok(&[]);
        }
        // SAFETY: data points at len initialized bytes (see above), which no `buffer_mut`
        // borrow of this call can alias: after one, this method refuses.
        Ok(unsafe { std::slice::from_raw_parts(data, len) })
    }

    /// Borrows exclusively the bytes of a Buffer (or typed array) argument, for the addon to
    /// write in place: what lets a batch reuse one JavaScript allocation. Once per call, before
    /// any [`Args::buffer`], and only when no other argument views any of the same bytes.
    #[allow(clippy::mut_from_ref)]
    pub fn buffer_mut(&self, i: usize) -> Result<&mut [u8], JsError> {
        if self.read.get() || self.lent.replace(true) {
            return Err(JsError::usage("a Buffer lent for writing after another was lent"));
        }
        let (data, len) = self.bytes_of(i)?;
        if data.is_null() {
            return Ok(&mut []);
        }
        let (start, end) = (data as usize, data as usize + len);
        for j in (0..self.len.min(self.values.len())).filter(|&j| j != i) {
            if let Ok((d, l)) = self.bytes_of(j) {
                if !d.is_null() && (d as usize) < end && start < d as usize + l {
                    return Err(JsError::usage(format!("arguments {i} and {j} share bytes")));
                }
            }
        }
        // SAFETY: data points at len initialized bytes that stay valid for the call (see
        // `bytes_of`); no other argument views them (checked above), and no other Buffer borrow
        // of this call exists before it (`read`, `lent`) or can be taken after it (`buffer`
        // refuses), so this is the one reference to them until the call returns.
        Ok(unsafe { std::slice::from_raw_parts_mut(data, len) })
    }

    /// Borrows the Rust value inside an external made by [`Env::external`], checking its type.
    pub fn external<T: Any + 'static>(&self, i: usize) -> Result<&T, JsError> {
        let v = self.get(i)?;
        let mut data: *mut c_void = ptr::null_mut();
        // SAFETY: v is an argument of the current call.
        if unsafe { napi_get_value_external(self.env.0, v, &mut data) } != OK || data.is_null() {
            return Err(JsError::usage(format!("argument {i} must be a tracedat handle")));
        }
        // SAFETY: every external this addon makes holds a Box<dyn Any> (Env::external) that only
        // `finalize_external` frees, and the collector cannot run that while the external is an
        // argument of the current call, which the borrow (of `self`, alive for the call) does
        // not outlive. The crate only ever makes shared references to it, so any number may
        // coexist; mutation goes through the RefCell of `Env::external_mut`, which is not Sync
        // but is only reached from calls on the JavaScript thread (work on other threads gets
        // clones of the Arc handles, never an external). An external made by other code could
        // still be passed in: that is the one place this module trusts its caller, the
        // TypeScript layer, which never exposes handles.
        let any: &Box<dyn Any> = unsafe { &*data.cast::<Box<dyn Any>>() };
        any.downcast_ref::<T>().ok_or_else(|| JsError::usage(format!("argument {i} is the wrong kind of handle")))
    }

    /// Borrows exclusively the Rust value inside an external made by [`Env::external_mut`]; an
    /// error if it is already borrowed (the same cursor passed twice to one call).
    pub fn external_mut<T: Any + 'static>(&self, i: usize) -> Result<RefMut<'_, T>, JsError> {
        self.external::<RefCell<T>>(i)?.try_borrow_mut().map_err(|_| JsError::usage(format!("argument {i} is a handle already in use")))
    }
}

/// A Rust function callable from JavaScript.
pub type Function = fn(Env, &Args) -> JsResult;

unsafe extern "C" fn trampoline(env: RawEnv, info: RawInfo) -> RawValue {
    let mut values = [ptr::null_mut(); 12];
    let mut len = values.len();
    let mut data: *mut c_void = ptr::null_mut();
    // SAFETY: info is the callback info of this call; values has room for `len` entries.
    if unsafe { napi_get_cb_info(env, info, &mut len, values.as_mut_ptr(), ptr::null_mut(), &mut data) } != OK {
        return ptr::null_mut();
    }
    // SAFETY: `data` is the `Function` pointer stored by `export`, a plain fn item address.
    let f: Function = unsafe { std::mem::transmute::<*mut c_void, Function>(data) };
    let env = Env(env);
    let args = Args { env, values, len, read: Cell::new(false), lent: Cell::new(false) };
    match catch_unwind(AssertUnwindSafe(|| f(env, &args))) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            let mut pending = false;
            // SAFETY: env is live.
            unsafe { napi_is_exception_pending(env.0, &mut pending) };
            if !pending {
                env.throw(e);
            }
            ptr::null_mut()
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            env.throw(JsError {
                code: "ERR_TRACEDAT_INTERNAL",
                message: format!("tracedat internal error (a bug, please report it): {what}"),
                fields: Vec::new(),
            });
            ptr::null_mut()
        }
    }
}

/// Adds `f` to `exports` under `name`.
pub fn export(env: RawEnv, exports: RawValue, name: &std::ffi::CStr, f: Function) -> bool {
    let mut func = ptr::null_mut();
    // SAFETY: env/exports come from napi_register_module_v1; the fn pointer is 'static and is
    // handed back to `trampoline` as `data`.
    unsafe {
        napi_create_function(env, name.as_ptr(), name.count_bytes(), trampoline, f as *mut c_void, &mut func) == OK
            && napi_set_named_property(env, exports, name.as_ptr(), func) == OK
    }
}
