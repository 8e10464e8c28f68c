//! Large float matrix products through the OpenBLAS already in the process.
//!
//! NumPy's wheels ship OpenBLAS, and importing NumPy loads it; ferrax imports
//! NumPy, so on a typical install the library is mapped into our process
//! already. Products of at least [`BLAS_FLOPS`] multiply-adds go to it;
//! everything else, and every process without it, uses the `gemm` crate on
//! our own thread pool.
//!
//! Why large products only (measured with `benches/blas.py`; the tables are
//! in benches/RESULTS.md): on a quiet 2-core Zen 3 the two libraries ran
//! 128³ to 1024³ within a few percent of each other, but while the machine's
//! other tenants were busy OpenBLAS ran 512³ to 1024³ products 1.06-1.43x
//! faster and W9 (four 1024³ products) 1.15-1.7x; on another Zen 3 `gemm`'s
//! 1024³ float32 ran at 0.77x OpenBLAS's speed on one core. Below that, the
//! two thread pools contend: after a product OpenBLAS's workers spin for a
//! while on the cores our pool needs next, so an MLP's value_and_grad (W2),
//! whose 128x784x256 products alternate with small ops, ran 1.35x slower
//! with those products on OpenBLAS.
//!
//! Nothing is installed or linked: the library is found among the objects
//! already loaded (`dl_iterate_phdr`) or at the path `FERRAX_BLAS` names, and
//! recognised as OpenBLAS by its `openblas_get_config` symbol, whose string
//! also says whether its integers are 64-bit (`USE64BITINT`). The four symbol
//! namings OpenBLAS builds use are tried: NumPy 2's `scipy_…64_`, SciPy's
//! `scipy_…`, NumPy 1's `…64_`, and the plain names of a system library.
//!
//! `FERRAX_BLAS`: unset or `auto`, the OpenBLAS already loaded if there is
//! one; `off`, never; `openblas`, the one loaded (an error at import when
//! there is none); a path, that library (an error at import when it is not
//! an OpenBLAS). Linux only: elsewhere products always use `gemm`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

/// Multiply-adds (m n k) from which a product goes to OpenBLAS: 512³. Each
/// such product runs for milliseconds, long enough that the spinning of the
/// pool that ran last costs little (see the module docs).
pub const BLAS_FLOPS: usize = 1 << 27;

/// The OpenBLAS found for this process, if any.
pub struct Blas {
    /// The file the library was loaded from.
    pub path: String,
    /// `openblas_get_config()`: version, integer width, kernel target.
    pub config: String,
    entry: Entry,
    get_num_threads: unsafe extern "C" fn() -> i32,
}

// CBLAS's row-major layout and transpose flags (C enums: `int`).
const ROW_MAJOR: i32 = 101;
const NO_TRANS: i32 = 111;
const TRANS: i32 = 112;

type Gemm<T, I> = unsafe extern "C" fn(
    layout: i32,
    trans_a: i32,
    trans_b: i32,
    m: I,
    n: I,
    k: I,
    alpha: T,
    a: *const T,
    lda: I,
    b: *const T,
    ldb: I,
    beta: T,
    c: *mut T,
    ldc: I,
);

enum Entry {
    /// 32-bit `blasint`.
    Lp64 {
        sgemm: Gemm<f32, i32>,
        dgemm: Gemm<f64, i32>,
    },
    /// 64-bit `blasint` (`INTERFACE64`).
    Ilp64 {
        sgemm: Gemm<f32, i64>,
        dgemm: Gemm<f64, i64>,
    },
}

/// How one operand of a product is laid out for CBLAS: its transpose flag and
/// leading dimension, or `None` when no unit stride makes it a plain
/// row-major matrix or its transpose (negative, zero or two non-unit strides).
fn layout(rows: usize, cols: usize, rs: isize, cs: isize) -> Option<(i32, usize)> {
    // the stride of a dimension of length 1 is never used: any value works
    let rs_ok = |ld: isize| rows <= 1 || rs >= ld.max(1);
    let cs_ok = |ld: isize| cols <= 1 || cs >= ld.max(1);
    if (cols <= 1 || cs == 1) && rs_ok(cols as isize) {
        let ld = if rows <= 1 { cols } else { rs as usize };
        return Some((NO_TRANS, ld.max(cols).max(1)));
    }
    if (rows <= 1 || rs == 1) && cs_ok(rows as isize) {
        let ld = if cols <= 1 { rows } else { cs as usize };
        return Some((TRANS, ld.max(rows).max(1)));
    }
    None
}

/// A float type OpenBLAS multiplies.
pub trait BlasFloat: Copy {
    /// Run `c = a @ b` through the matching `?gemm` of `entry`.
    ///
    /// # Safety
    /// The pointers and leading dimensions must describe matrices inside
    /// live allocations, as CBLAS requires.
    #[allow(clippy::too_many_arguments)]
    unsafe fn gemm(
        blas: &Blas,
        ta: i32,
        tb: i32,
        m: usize,
        n: usize,
        k: usize,
        a: *const Self,
        lda: usize,
        b: *const Self,
        ldb: usize,
        c: *mut Self,
        ldc: usize,
    );
}

macro_rules! blas_float {
    ($t:ty, $f:ident) => {
        impl BlasFloat for $t {
            unsafe fn gemm(
                blas: &Blas,
                ta: i32,
                tb: i32,
                m: usize,
                n: usize,
                k: usize,
                a: *const Self,
                lda: usize,
                b: *const Self,
                ldb: usize,
                c: *mut Self,
                ldc: usize,
            ) {
                // SAFETY: the caller's contract (matrices inside live
                // allocations); `$f` was resolved from an OpenBLAS whose
                // config string gave this integer width, and every size was
                // checked to fit it by `product`.
                unsafe {
                    match blas.entry {
                        Entry::Lp64 { $f: f, .. } => f(
                            ROW_MAJOR, ta, tb, m as i32, n as i32, k as i32, 1.0, a, lda as i32, b,
                            ldb as i32, 0.0, c, ldc as i32,
                        ),
                        Entry::Ilp64 { $f: f, .. } => f(
                            ROW_MAJOR, ta, tb, m as i64, n as i64, k as i64, 1.0, a, lda as i64, b,
                            ldb as i64, 0.0, c, ldc as i64,
                        ),
                    }
                }
            }
        }
    };
}
blas_float!(f32, sgemm);
blas_float!(f64, dgemm);

impl Blas {
    /// The number of threads OpenBLAS splits a product across.
    pub fn threads(&self) -> usize {
        // SAFETY: `openblas_get_num_threads` takes nothing and returns an int.
        unsafe { (self.get_num_threads)() }.max(1) as usize
    }

    /// `out = a @ b` for an `m×k` operand `a` (row/column strides `a_rs`,
    /// `a_cs`, in elements) and a `k×n` operand `b`, into `out` whose rows
    /// are `out_rs` apart. `false` (and nothing written) when an operand's
    /// strides are not a CBLAS layout or a size does not fit the library's
    /// integers; the caller then uses `gemm`.
    ///
    /// # Safety
    /// Every element the product reads, `a[i*a_rs + p*a_cs]` and
    /// `b[p*b_rs + j*b_cs]` for `i<m, p<k, j<n`, and every element it writes,
    /// `out[i*out_rs + j]`, must lie inside live allocations, with `out` not
    /// overlapping either operand.
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn product<T: BlasFloat>(
        &self,
        (m, n, k): (usize, usize, usize),
        (a, a_rs, a_cs): (*const T, isize, isize),
        (b, b_rs, b_cs): (*const T, isize, isize),
        (out, out_rs): (*mut T, usize),
    ) -> bool {
        let (Some((ta, lda)), Some((tb, ldb))) =
            (layout(m, k, a_rs, a_cs), layout(k, n, b_rs, b_cs))
        else {
            return false;
        };
        let ldc = out_rs.max(n).max(1);
        let limit = match self.entry {
            Entry::Lp64 { .. } => i32::MAX as usize,
            Entry::Ilp64 { .. } => i64::MAX as usize,
        };
        if [m, n, k, lda, ldb, ldc].iter().any(|&d| d > limit) {
            return false;
        }
        let _flight = fork_guard::enter();
        // SAFETY: `layout` gave each operand's transpose flag and leading
        // dimension from its strides, so CBLAS reads exactly the elements the
        // caller vouched for; the sizes fit the library's integers (above).
        unsafe { T::gemm(self, ta, tb, m, n, k, a, lda, b, ldb, out, ldc) };
        true
    }
}

/// The OpenBLAS products go to, found once per process (see the module
/// docs); `Err` when `FERRAX_BLAS` names a library that cannot be used.
pub fn library() -> Result<Option<&'static Blas>, String> {
    static BLAS: OnceLock<Result<Option<Blas>, String>> = OnceLock::new();
    BLAS.get_or_init(find)
        .as_ref()
        .map(Option::as_ref)
        .map_err(Clone::clone)
}

/// Whether products may use the library found (tests compare both paths in
/// one process).
static ENABLED: AtomicBool = AtomicBool::new(true);

/// Let large products use the OpenBLAS found (`true`, the default) or keep
/// them all on `gemm`.
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

/// [`library`] for the kernels: `None` when disabled or on an error (which
/// the Python module raises at import, so kernels never see it).
#[inline]
pub fn blas() -> Option<&'static Blas> {
    if !ENABLED.load(Ordering::Relaxed) {
        return None;
    }
    library().ok().flatten()
}

fn find() -> Result<Option<Blas>, String> {
    let found = from_setting(&std::env::var("FERRAX_BLAS").unwrap_or_default());
    if let Ok(Some(_)) = &found {
        // after the library registered its own fork handler (at its load)
        fork_guard::install();
    }
    found
}

/// OpenBLAS shuts its worker threads down in a `fork()` prepare handler,
/// even while another thread is inside a threaded product: that product then
/// waits forever for workers that no longer exist, and the process that
/// forked hangs (tests/test_stress.py forks while a thread multiplies 700x700
/// matrices; it hung there in most runs). So ferrax's products count
/// themselves in flight, and a prepare handler of ours, registered after the
/// library's and so run before it (prepare handlers run in reverse order of
/// registration), holds new products back and waits for those in flight;
/// both handlers after the fork let products run again. A product never
/// waits on a lock the forking thread could hold (it runs without the GIL,
/// inside the library), so the wait ends. NumPy's own products are not ours
/// to count.
#[cfg(unix)]
mod fork_guard {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};

    static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);
    static FORKING: AtomicBool = AtomicBool::new(false);

    /// A product in flight, until dropped.
    pub struct Flight;

    pub fn enter() -> Flight {
        loop {
            while FORKING.load(SeqCst) {
                std::thread::yield_now();
            }
            // SeqCst on both sides: either the forking thread sees this
            // increment, or this thread sees its flag and steps back.
            IN_FLIGHT.fetch_add(1, SeqCst);
            if !FORKING.load(SeqCst) {
                return Flight;
            }
            IN_FLIGHT.fetch_sub(1, SeqCst);
        }
    }

    impl Drop for Flight {
        fn drop(&mut self) {
            IN_FLIGHT.fetch_sub(1, SeqCst);
        }
    }

    extern "C" fn prepare() {
        FORKING.store(true, SeqCst);
        while IN_FLIGHT.load(SeqCst) > 0 {
            std::thread::yield_now();
        }
    }

    /// In the parent and in the child (where only atomic stores are allowed,
    /// and the forking thread, in flight in no product, is the only thread).
    extern "C" fn done() {
        FORKING.store(false, SeqCst);
    }

    pub fn install() {
        type Handler = unsafe extern "C" fn();
        // SAFETY: static functions that live for the whole process; the
        // child handler only stores to an atomic (async-signal-safe). Called
        // once, from the library's `OnceLock` initialisation.
        unsafe {
            libc::pthread_atfork(
                Some(prepare as Handler),
                Some(done as Handler),
                Some(done as Handler),
            );
        }
    }
}

#[cfg(not(unix))]
mod fork_guard {
    pub struct Flight;
    pub fn enter() -> Flight {
        Flight
    }
    pub fn install() {}
}

/// The library a `FERRAX_BLAS` value asks for (see the module docs).
fn from_setting(setting: &str) -> Result<Option<Blas>, String> {
    let setting = setting.trim();
    match setting.to_ascii_lowercase().as_str() {
        "off" => Ok(None),
        "" | "auto" => Ok(sys::loaded_openblas()),
        "openblas" => sys::loaded_openblas().map(Some).ok_or_else(|| {
            String::from(
                "FERRAX_BLAS=openblas: no OpenBLAS is loaded in this process \
                 (NumPy built against another BLAS?); name the library's path instead",
            )
        }),
        _ => sys::open(setting).and_then(|b| {
            b.map(Some).ok_or_else(|| {
                format!("FERRAX_BLAS={setting:?}: not an OpenBLAS (no openblas_get_config symbol)")
            })
        }),
    }
}

#[cfg(target_os = "linux")]
mod sys {
    use std::ffi::{c_char, c_int, c_void, CStr, CString};

    use super::{Blas, Entry};

    /// The namings OpenBLAS builds give their symbols, as (prefix, suffix).
    const NAMINGS: [(&str, &str); 4] = [("scipy_", "64_"), ("scipy_", ""), ("", "64_"), ("", "")];

    /// An OpenBLAS among the objects already loaded, by file name.
    pub fn loaded_openblas() -> Option<Blas> {
        let mut names: Vec<CString> = Vec::new();
        unsafe extern "C" fn visit(
            info: *mut libc::dl_phdr_info,
            _size: libc::size_t,
            data: *mut c_void,
        ) -> c_int {
            // SAFETY: `dl_iterate_phdr` passes a valid `info` for the
            // duration of the call and `data` is the `&mut Vec` given below;
            // `dlpi_name` is null or a NUL-terminated string.
            unsafe {
                let names = &mut *(data as *mut Vec<CString>);
                let name = (*info).dlpi_name;
                if !name.is_null() {
                    let name = CStr::from_ptr(name);
                    let lower = name.to_string_lossy().to_ascii_lowercase();
                    let file = lower.rsplit('/').next().unwrap_or("");
                    if file.contains("openblas") {
                        names.push(name.to_owned());
                    }
                }
            }
            0
        }
        // SAFETY: `visit` matches the callback type, only reads what it is
        // given, and `names` outlives the call.
        unsafe { libc::dl_iterate_phdr(Some(visit), &mut names as *mut _ as *mut c_void) };
        names.iter().find_map(|name| {
            // SAFETY: RTLD_NOLOAD only returns a handle to an object already
            // mapped (adding a reference that is never dropped, so it stays
            // mapped); no initialisers run.
            let handle = unsafe { libc::dlopen(name.as_ptr(), libc::RTLD_NOW | libc::RTLD_NOLOAD) };
            let name = name.to_string_lossy();
            let path =
                std::fs::canonicalize(&*name).map_or(name.to_string(), |p| p.display().to_string());
            resolve(handle, &path)
        })
    }

    /// The library at `path`, loaded if it is not already.
    pub fn open(path: &str) -> Result<Option<Blas>, String> {
        let c = CString::new(path).map_err(|_| format!("FERRAX_BLAS={path:?}: contains NUL"))?;
        // SAFETY: a NUL-terminated path; loading runs the library's own
        // initialisers, which is what the user asked for by naming it.
        let handle = unsafe { libc::dlopen(c.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
        if handle.is_null() {
            // SAFETY: dlerror returns null or a NUL-terminated message.
            let why = unsafe {
                let e = libc::dlerror();
                if e.is_null() {
                    String::from("cannot be loaded")
                } else {
                    CStr::from_ptr(e).to_string_lossy().into_owned()
                }
            };
            return Err(format!("FERRAX_BLAS={path:?}: {why}"));
        }
        Ok(resolve(handle, path))
    }

    fn symbol(handle: *mut c_void, name: &str) -> Option<*mut c_void> {
        let c = CString::new(name).ok()?;
        // SAFETY: a live handle from dlopen and a NUL-terminated name.
        let p = unsafe { libc::dlsym(handle, c.as_ptr()) };
        (!p.is_null()).then_some(p)
    }

    fn resolve(handle: *mut c_void, path: &str) -> Option<Blas> {
        if handle.is_null() {
            return None;
        }
        NAMINGS.iter().find_map(|(pre, suf)| {
            let config = symbol(handle, &format!("{pre}openblas_get_config{suf}"))?;
            let threads = symbol(handle, &format!("{pre}openblas_get_num_threads{suf}"))?;
            let s = symbol(handle, &format!("{pre}cblas_sgemm{suf}"))?;
            let d = symbol(handle, &format!("{pre}cblas_dgemm{suf}"))?;
            // SAFETY: OpenBLAS's `char *openblas_get_config(void)` returns a
            // static NUL-terminated string.
            let config = unsafe {
                let f: unsafe extern "C" fn() -> *const c_char = std::mem::transmute(config);
                CStr::from_ptr(f()).to_string_lossy().into_owned()
            };
            // SAFETY: the four symbols are OpenBLAS's functions of these C
            // signatures (`int openblas_get_num_threads(void)` and CBLAS's
            // `cblas_?gemm`), with `blasint` 64-bit exactly when the build's
            // config says USE64BITINT.
            let entry = unsafe {
                if config.contains("USE64BITINT") {
                    Entry::Ilp64 {
                        sgemm: std::mem::transmute::<*mut c_void, super::Gemm<f32, i64>>(s),
                        dgemm: std::mem::transmute::<*mut c_void, super::Gemm<f64, i64>>(d),
                    }
                } else {
                    Entry::Lp64 {
                        sgemm: std::mem::transmute::<*mut c_void, super::Gemm<f32, i32>>(s),
                        dgemm: std::mem::transmute::<*mut c_void, super::Gemm<f64, i32>>(d),
                    }
                }
            };
            // SAFETY: see above (`int openblas_get_num_threads(void)`).
            let get_num_threads = unsafe {
                std::mem::transmute::<*mut c_void, unsafe extern "C" fn() -> i32>(threads)
            };
            Some(Blas {
                path: path.to_string(),
                config: config.split_whitespace().collect::<Vec<_>>().join(" "),
                entry,
                get_num_threads,
            })
        })
    }
}

#[cfg(not(target_os = "linux"))]
mod sys {
    use super::Blas;

    pub fn loaded_openblas() -> Option<Blas> {
        None
    }

    pub fn open(path: &str) -> Result<Option<Blas>, String> {
        Err(format!(
            "FERRAX_BLAS={path:?}: loading a BLAS is supported on Linux only"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_of_row_major_transposed_and_other_strides() {
        assert_eq!(layout(3, 4, 4, 1), Some((NO_TRANS, 4)));
        assert_eq!(layout(3, 4, 10, 1), Some((NO_TRANS, 10))); // a slice of wider rows
        assert_eq!(layout(3, 4, 1, 3), Some((TRANS, 3))); // a transposed view
        assert_eq!(layout(3, 4, 1, 7), Some((TRANS, 7)));
        assert_eq!(layout(1, 4, 99, 1), Some((NO_TRANS, 4))); // one row: its stride is unused
        assert_eq!(layout(3, 1, 5, 42), Some((NO_TRANS, 5))); // one column
        assert_eq!(layout(1, 1, 0, 0), Some((NO_TRANS, 1)));
        assert_eq!(layout(3, 4, 2, 1), None); // rows overlap
        assert_eq!(layout(3, 4, 0, 1), None); // broadcast rows
        assert_eq!(layout(3, 4, -4, 1), None); // reversed rows
        assert_eq!(layout(3, 4, 8, 2), None); // every other column
    }

    #[test]
    fn settings_and_their_errors() {
        // a Rust test process has not loaded NumPy, hence no OpenBLAS
        assert!(matches!(from_setting("off"), Ok(None)));
        assert!(matches!(from_setting(" OFF "), Ok(None)));
        if sys::loaded_openblas().is_none() {
            assert!(matches!(from_setting(""), Ok(None)));
            assert!(matches!(from_setting("auto"), Ok(None)));
            let e = from_setting("openblas").err().unwrap();
            assert!(e.contains("no OpenBLAS is loaded"), "{e}");
        }
        let e = from_setting("/no/such/libopenblas.so").err().unwrap();
        assert!(
            e.starts_with("FERRAX_BLAS=\"/no/such/libopenblas.so\""),
            "{e}"
        );
        #[cfg(target_os = "linux")]
        {
            let e = from_setting("libc.so.6").err().unwrap();
            assert!(e.contains("not an OpenBLAS"), "{e}");
            let e = from_setting("lib\0c").err().unwrap();
            assert!(e.contains("NUL"), "{e}");
        }
    }
}
