//! `ferrax._ferrax`: the PyO3 bindings of ferrax-core. Argument conversion,
//! error mapping and the transforms over Python callables; no numerics here.

mod composites;
mod convert;
mod custom;
mod dlpack;
mod errors;
mod functions;
mod indexing;
mod interrupt;
mod lax;
mod linalg;
mod numpy_functions;
mod pytree;
mod random;
mod sparse;
mod special;
mod tensor;
mod transforms;

use pyo3::prelude::*;

/// Kernel threads in use.
///
///     >>> fx.get_num_threads() >= 1
///     True
#[pyfunction]
fn get_num_threads() -> usize {
    ferrax_core::kernels::parallel::num_threads()
}

/// Bound the number of kernel threads (also set by `FERRAX_NUM_THREADS`).
///
///     >>> fx.set_num_threads(1)
#[pyfunction]
fn set_num_threads(n: usize) -> PyResult<()> {
    errors::guard(|| ferrax_core::kernels::parallel::set_num_threads(n))
}

/// The SIMD instruction set the kernels run ("avx512", "avx2+fma", "neon",
/// "scalar"): the widest the CPU has, capped by the environment variable
/// `FERRAX_SIMD` (`scalar`, `avx2`, `avx512`; `neon` on ARM): read once, when
/// the first kernel runs; a value naming no level is refused at import.
///
///     >>> fx.simd_level()   # e.g. 'avx2+fma' on an x86-64 machine with AVX2
///     '...'
#[pyfunction]
fn simd_level() -> &'static str {
    ferrax_core::kernels::simd::simd_level()
}

/// The OpenBLAS that large float matrix products go to (its build string and
/// file), or `None` when every product uses ferrax's own GEMM.
///
/// NumPy's wheels ship OpenBLAS and importing NumPy loads it; ferrax finds it
/// among the loaded libraries (nothing is linked or installed) and sends it
/// float products of at least 2**27 multiply-adds (512 x 512 x 512), while
/// OpenBLAS's thread count equals ferrax's (`set_num_threads`). Smaller
/// products stay on ferrax's own GEMM and thread pool. The environment
/// variable `FERRAX_BLAS`, read at import, overrides the search: `off` never
/// uses a BLAS, `openblas` requires the loaded one, and a path loads that
/// OpenBLAS; a value naming no usable OpenBLAS is refused at import.
///
///     >>> lib = fx.blas_library()   # e.g. 'OpenBLAS 0.3.31 ... (.../libscipy_openblas64_...so)'
///     >>> lib is None or lib.startswith("OpenBLAS")
///     True
#[pyfunction]
fn blas_library() -> Option<String> {
    ferrax_core::kernels::blas::blas().map(|b| format!("{} ({})", b.config, b.path))
}

/// Let large products use the OpenBLAS `blas_library` names (the default)
/// or not: tests compare both paths in one process.
#[pyfunction]
fn _set_blas_enabled(on: bool) {
    ferrax_core::kernels::blas::set_enabled(on)
}

/// Register the Python-side implementations of repr and the NumPy protocols.
#[pyfunction]
fn _register_hooks(
    py: Python<'_>,
    repr: Py<PyAny>,
    array_ufunc: Py<PyAny>,
    array_function: Py<PyAny>,
) -> PyResult<()> {
    let _ = tensor::HOOKS.set(
        py,
        tensor::Hooks {
            repr,
            array_ufunc,
            array_function,
        },
    );
    Ok(())
}

/// The values of `x` without its derivative (the primal of a traced value),
/// for NumPy functions whose results carry none. A value batched by `vmap`
/// has no single value: RuntimeError.
///
///     >>> fx._ferrax._primal(fx.ones(2))
///     Tensor([1., 1.])
#[pyfunction]
fn _primal(py: Python<'_>, x: &Bound<'_, tensor::PyTensor>) -> PyResult<Py<tensor::PyTensor>> {
    let t = errors::guard(|| x.get().v.concrete())?;
    tensor::wrap(py, ferrax_core::Value::Concrete(t))
}

/// A tensor sharing the memory of a DLPack producer (a NumPy, torch or JAX
/// array on the CPU, ...), without a copy where ferrax can read the layout
/// in place: float32/float64/int32/int64 data aligned for its dtype, any
/// strides. Bool arrays, dtypes ferrax does not have, and misaligned data
/// are copied (converted as by `asarray`); `copy=False` refuses them with a
/// `BufferError`, `copy=True` always copies. A tensor passes through
/// unchanged. The producer must not write to the memory while the tensor
/// (or a result viewing it) is alive: ferrax never writes to it, and reads
/// it whenever the values are used.
///
///     >>> a = np.arange(4.0)
///     >>> t = fx.from_dlpack(a)
///     >>> np.shares_memory(a, np.asarray(t))
///     True
#[pyfunction]
#[pyo3(signature = (x, /, *, device=None, copy=None))]
fn from_dlpack(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    device: Option<&Bound<'_, PyAny>>,
    copy: Option<bool>,
) -> PyResult<Py<tensor::PyTensor>> {
    if let Some(d) = device.filter(|d| !d.is_none()) {
        let cpu = d.extract::<String>().is_ok_and(|s| s == "cpu")
            || d.extract::<(i32, i32)>().is_ok_and(|t| t.0 == 1);
        if !cpu {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "ferrax tensors live on the CPU: device must be None, 'cpu' or (1, 0), got {d}"
            )));
        }
    }
    dlpack::import(py, x, copy)
}

/// Number of live transform levels on this thread (0 outside any transform).
#[pyfunction]
fn _trace_depth() -> usize {
    ferrax_core::trace::depth()
}

#[pymodule]
fn _ferrax(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // a mistyped SIMD cap would silently measure or test the wrong path
    ferrax_core::kernels::simd::requested_cap().map_err(pyo3::exceptions::PyValueError::new_err)?;
    // found now, while NumPy (imported first by the package) is loaded; a
    // FERRAX_BLAS naming an unusable library is refused here, not mid-product
    ferrax_core::kernels::blas::library().map_err(pyo3::exceptions::PyValueError::new_err)?;
    // a mistyped bound on the cache of freed buffers would silently keep memory
    ferrax_core::tensor::requested_cache_mb().map_err(pyo3::exceptions::PyValueError::new_err)?;
    interrupt::install(m.py())?;
    m.add_class::<tensor::PyTensor>()?;
    m.add_class::<transforms::PyVjpFn>()?;
    m.add_class::<transforms::PyLinearFn>()?;
    m.add_class::<sparse::SparseJacFn>()?;
    m.add_class::<transforms::GradFn>()?;
    m.add_class::<transforms::VmapFn>()?;
    m.add_class::<transforms::JacFn>()?;
    m.add_class::<pytree::PyTreeDef>()?;
    m.add_function(wrap_pyfunction!(pytree::tree_flatten, m)?)?;
    m.add_function(wrap_pyfunction!(pytree::tree_unflatten, m)?)?;
    m.add_function(wrap_pyfunction!(pytree::register_pytree_node, m)?)?;
    m.add_function(wrap_pyfunction!(get_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(set_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(simd_level, m)?)?;
    m.add_function(wrap_pyfunction!(blas_library, m)?)?;
    m.add_function(wrap_pyfunction!(_set_blas_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(_register_hooks, m)?)?;
    m.add_function(wrap_pyfunction!(_trace_depth, m)?)?;
    m.add_function(wrap_pyfunction!(_primal, m)?)?;
    m.add_function(wrap_pyfunction!(from_dlpack, m)?)?;
    m.add_function(wrap_pyfunction!(indexing::_flat_positions, m)?)?;
    m.add_function(wrap_pyfunction!(transforms::vjp, m)?)?;
    m.add_function(wrap_pyfunction!(transforms::jvp, m)?)?;
    m.add_function(wrap_pyfunction!(transforms::linearize, m)?)?;
    m.add_function(wrap_pyfunction!(transforms::linear_transpose, m)?)?;
    m.add_function(wrap_pyfunction!(sparse::sparsity_pattern, m)?)?;
    m.add_function(wrap_pyfunction!(sparse::sparsity_coloring, m)?)?;
    functions::register(m)?;
    composites::register(m)?;
    composites::register_private(m)?;
    linalg::register_private(m)?;
    special::register_private(m)?;
    custom::register_private(m)?;
    lax::register_private(m)?;
    random::register_private(m)?;
    numpy_functions::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    // `from ferrax._ferrax import *` takes every public name: a function
    // generated from the core's declarations is exported without a list
    let public: Vec<String> = m
        .dict()
        .keys()
        .iter()
        .map(|k| k.extract::<String>())
        .collect::<PyResult<Vec<_>>>()?
        .into_iter()
        .filter(|k| !k.starts_with('_'))
        .collect();
    m.add("__all__", public)?;
    Ok(())
}
