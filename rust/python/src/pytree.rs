//! Pytrees: nested tuples, lists, dicts (keys in sorted order), `None`,
//! namedtuples and registered node types, flattened to their leaves and
//! rebuilt from them. The transforms flatten their arguments and results
//! here; `ferrax.tree_util` exposes the same functions and the registry.

use std::sync::Arc;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::pyclass::CompareOp;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyTuple, PyType};

use crate::tensor::PyTensor;

/// What a node of a tree is.
enum Kind {
    Leaf,
    None,
    Tuple,
    List,
    /// The keys, in sorted order (the order of the children).
    Dict(Vec<Py<PyAny>>),
    NamedTuple(Py<PyType>),
    /// A registered type and the auxiliary data its flatten function returned.
    Custom(Py<PyType>, Py<PyAny>),
}

/// The structure of a pytree.
pub struct Node {
    kind: Kind,
    children: Vec<Node>,
    leaves: usize,
}

/// type -> (flatten, unflatten) of the registered node types.
static REGISTRY: PyOnceLock<Py<PyDict>> = PyOnceLock::new();

fn registry(py: Python<'_>) -> &Bound<'_, PyDict> {
    REGISTRY
        .get_or_init(py, || PyDict::new(py).unbind())
        .bind(py)
}

impl Node {
    pub fn leaf() -> Node {
        Node {
            kind: Kind::Leaf,
            children: Vec::new(),
            leaves: 1,
        }
    }

    pub fn num_leaves(&self) -> usize {
        self.leaves
    }

    pub fn is_leaf(&self) -> bool {
        matches!(self.kind, Kind::Leaf)
    }

    fn container(kind: Kind, children: Vec<Node>) -> Node {
        let leaves = children.iter().map(|c| c.leaves).sum();
        Node {
            kind,
            children,
            leaves,
        }
    }

    fn num_nodes(&self) -> usize {
        1 + self.children.iter().map(Node::num_nodes).sum::<usize>()
    }

    /// Rebuild a tree of this structure from `leaves` (exactly `num_leaves`).
    pub fn unflatten<'py>(
        &self,
        py: Python<'py>,
        leaves: impl IntoIterator<Item = Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mut it = leaves.into_iter();
        let r = self.build(py, &mut it)?;
        if it.next().is_some() {
            return Err(PyValueError::new_err(format!(
                "tree structure {} has {} leaves, got more",
                self.repr(py)?,
                self.leaves
            )));
        }
        Ok(r)
    }

    fn build<'py>(
        &self,
        py: Python<'py>,
        it: &mut dyn Iterator<Item = Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let kids = |it: &mut dyn Iterator<Item = Bound<'py, PyAny>>| {
            self.children
                .iter()
                .map(|c| c.build(py, it))
                .collect::<PyResult<Vec<_>>>()
        };
        Ok(match &self.kind {
            Kind::Leaf => it
                .next()
                .ok_or_else(|| PyValueError::new_err("too few leaves for the tree structure"))?,
            Kind::None => py.None().into_bound(py),
            Kind::Tuple => PyTuple::new(py, kids(it)?)?.into_any(),
            Kind::List => PyList::new(py, kids(it)?)?.into_any(),
            Kind::Dict(keys) => {
                let d = PyDict::new(py);
                for (k, v) in keys.iter().zip(kids(it)?) {
                    d.set_item(k.bind(py), v)?;
                }
                d.into_any()
            }
            Kind::NamedTuple(ty) => ty.bind(py).call1(PyTuple::new(py, kids(it)?)?)?,
            Kind::Custom(ty, aux) => {
                let (_, unflatten) = registered(ty.bind(py))?.ok_or_else(|| {
                    PyTypeError::new_err("a registered pytree node type is no longer registered")
                })?;
                unflatten.call1((aux.bind(py), PyList::new(py, kids(it)?)?))?
            }
        })
    }

    fn eq(&self, other: &Node, py: Python<'_>) -> PyResult<bool> {
        if self.leaves != other.leaves || self.children.len() != other.children.len() {
            return Ok(false);
        }
        let same = match (&self.kind, &other.kind) {
            (Kind::Leaf, Kind::Leaf)
            | (Kind::None, Kind::None)
            | (Kind::Tuple, Kind::Tuple)
            | (Kind::List, Kind::List) => true,
            (Kind::Dict(a), Kind::Dict(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b)
                        .map(|(x, y)| x.bind(py).eq(y.bind(py)))
                        .collect::<PyResult<Vec<_>>>()?
                        .into_iter()
                        .all(|e| e)
            }
            (Kind::NamedTuple(a), Kind::NamedTuple(b)) => a.is(b),
            (Kind::Custom(a, x), Kind::Custom(b, y)) => a.is(b) && x.bind(py).eq(y.bind(py))?,
            _ => false,
        };
        if !same {
            return Ok(false);
        }
        for (a, b) in self.children.iter().zip(&other.children) {
            if !a.eq(b, py)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn repr(&self, py: Python<'_>) -> PyResult<String> {
        let inner = |sep: &str| -> PyResult<String> {
            Ok(self
                .children
                .iter()
                .map(|c| c.repr(py))
                .collect::<PyResult<Vec<_>>>()?
                .join(sep))
        };
        Ok(match &self.kind {
            Kind::Leaf => "*".into(),
            Kind::None => "None".into(),
            Kind::Tuple if self.children.len() == 1 => format!("({},)", inner(", ")?),
            Kind::Tuple => format!("({})", inner(", ")?),
            Kind::List => format!("[{}]", inner(", ")?),
            Kind::Dict(keys) => {
                let items = keys
                    .iter()
                    .zip(&self.children)
                    .map(|(k, c)| Ok(format!("{}: {}", k.bind(py).repr()?, c.repr(py)?)))
                    .collect::<PyResult<Vec<_>>>()?;
                format!("{{{}}}", items.join(", "))
            }
            Kind::NamedTuple(ty) | Kind::Custom(ty, _) => {
                format!("{}({})", ty.bind(py).name()?, inner(", ")?)
            }
        })
    }
}

/// The (flatten, unflatten) functions registered for `ty`, if any.
fn registered<'py>(
    ty: &Bound<'py, PyType>,
) -> PyResult<Option<(Bound<'py, PyAny>, Bound<'py, PyAny>)>> {
    match registry(ty.py()).get_item(ty)? {
        None => Ok(None),
        Some(pair) => Ok(Some(pair.extract()?)),
    }
}

/// Split `obj` into its leaves (appended to `leaves`, left to right) and its
/// structure. `is_leaf(x)` true stops the descent at `x`.
pub fn flatten<'py>(
    obj: &Bound<'py, PyAny>,
    is_leaf: Option<&Bound<'py, PyAny>>,
    leaves: &mut Vec<Bound<'py, PyAny>>,
) -> PyResult<Node> {
    if obj.is_instance_of::<PyTensor>() {
        leaves.push(obj.clone());
        return Ok(Node::leaf());
    }
    if let Some(f) = is_leaf {
        if f.call1((obj,))?.is_truthy()? {
            leaves.push(obj.clone());
            return Ok(Node::leaf());
        }
    }
    let py = obj.py();
    let children =
        |items: &mut dyn Iterator<Item = PyResult<Bound<'py, PyAny>>>,
         leaves: &mut Vec<Bound<'py, PyAny>>|
         -> PyResult<Vec<Node>> { items.map(|c| flatten(&c?, is_leaf, leaves)).collect() };
    if obj.is_exact_instance_of::<PyTuple>() {
        let kids = children(&mut obj.try_iter()?, leaves)?;
        return Ok(Node::container(Kind::Tuple, kids));
    }
    if obj.is_exact_instance_of::<PyList>() {
        let kids = children(&mut obj.try_iter()?, leaves)?;
        return Ok(Node::container(Kind::List, kids));
    }
    if let Ok(d) = obj.cast_exact::<PyDict>() {
        let keys = py.import("builtins")?.getattr("sorted")?.call1((d,))?;
        let keys: Vec<Bound<'py, PyAny>> = keys.try_iter()?.collect::<PyResult<_>>()?;
        let mut kids = Vec::with_capacity(keys.len());
        for k in &keys {
            let v = d
                .get_item(k)?
                .ok_or_else(|| PyValueError::new_err("dict changed size"))?;
            kids.push(flatten(&v, is_leaf, leaves)?);
        }
        let keys = keys.into_iter().map(Bound::unbind).collect();
        return Ok(Node::container(Kind::Dict(keys), kids));
    }
    if obj.is_none() {
        return Ok(Node::container(Kind::None, Vec::new()));
    }
    let ty = obj.get_type();
    if let Some((flatten_fn, _)) = registered(&ty)? {
        let (kids_obj, aux): (Bound<'py, PyAny>, Bound<'py, PyAny>) =
            flatten_fn.call1((obj,))?.extract()?;
        let kids = children(&mut kids_obj.try_iter()?, leaves)?;
        return Ok(Node::container(
            Kind::Custom(ty.unbind(), aux.unbind()),
            kids,
        ));
    }
    if obj.is_instance_of::<PyTuple>() && ty.hasattr("_fields")? {
        let kids = children(&mut obj.try_iter()?, leaves)?;
        return Ok(Node::container(Kind::NamedTuple(ty.unbind()), kids));
    }
    leaves.push(obj.clone());
    Ok(Node::leaf())
}

/// The structure of a pytree: what `tree_unflatten` needs to rebuild it.
#[pyclass(name = "PyTreeDef", module = "ferrax.tree_util", frozen)]
pub struct PyTreeDef {
    pub node: Arc<Node>,
}

impl PyTreeDef {
    pub fn new(node: Node) -> Self {
        PyTreeDef {
            node: Arc::new(node),
        }
    }
}

/// Whether two structures are the same (containers, keys, node types and aux data).
pub fn nodes_equal(a: &Node, b: &Node, py: Python<'_>) -> PyResult<bool> {
    a.eq(b, py)
}

/// `PyTreeDef(...)`, as its repr shows it.
pub fn describe(node: &Node, py: Python<'_>) -> PyResult<String> {
    Ok(format!("PyTreeDef({})", node.repr(py)?))
}

#[pymethods]
impl PyTreeDef {
    /// Number of leaves.
    #[getter]
    fn num_leaves(&self) -> usize {
        self.node.leaves
    }
    /// Number of nodes, leaves included.
    #[getter]
    fn num_nodes(&self) -> usize {
        self.node.num_nodes()
    }
    /// Whether this is the structure of a single leaf.
    #[getter]
    fn is_leaf(&self) -> bool {
        self.node.is_leaf()
    }
    /// Rebuild a tree of this structure from `leaves`.
    fn unflatten<'py>(
        &self,
        py: Python<'py>,
        leaves: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        tree_unflatten(py, self, leaves)
    }
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!("PyTreeDef({})", self.node.repr(py)?))
    }
    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> PyResult<Py<PyAny>> {
        let py = other.py();
        let Ok(other) = other.cast::<PyTreeDef>() else {
            return Ok(py.NotImplemented());
        };
        let eq = self.node.eq(&other.get().node, py)?;
        Ok(match op {
            CompareOp::Eq => eq.into_pyobject(py)?.to_owned().into_any().unbind(),
            CompareOp::Ne => (!eq).into_pyobject(py)?.to_owned().into_any().unbind(),
            _ => py.NotImplemented(),
        })
    }
    fn __hash__(&self) -> u64 {
        let tag = match self.node.kind {
            Kind::Leaf => 0,
            Kind::None => 1,
            Kind::Tuple => 2,
            Kind::List => 3,
            Kind::Dict(_) => 4,
            Kind::NamedTuple(_) => 5,
            Kind::Custom(..) => 6,
        };
        (tag << 48) ^ ((self.node.leaves as u64) << 16) ^ self.node.children.len() as u64
    }
}

/// Split a pytree into its leaves (left to right) and its structure.
///
///     >>> fx.tree_util.tree_flatten([1, (2, None)])
///     ([1, 2], PyTreeDef([*, (*, None)]))
#[pyfunction]
#[pyo3(signature = (tree, is_leaf=None))]
pub fn tree_flatten<'py>(
    tree: &Bound<'py, PyAny>,
    is_leaf: Option<&Bound<'py, PyAny>>,
) -> PyResult<(Bound<'py, PyList>, PyTreeDef)> {
    let mut leaves = Vec::new();
    let is_leaf = is_leaf.filter(|f| !f.is_none());
    let node = flatten(tree, is_leaf, &mut leaves)?;
    Ok((PyList::new(tree.py(), leaves)?, PyTreeDef::new(node)))
}

/// Rebuild a pytree of structure `treedef` from `leaves`.
///
///     >>> leaves, td = fx.tree_util.tree_flatten((1, {"x": 2}))
///     >>> fx.tree_util.tree_unflatten(td, [5, 6])
///     (5, {'x': 6})
#[pyfunction]
pub fn tree_unflatten<'py>(
    py: Python<'py>,
    treedef: &PyTreeDef,
    leaves: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let leaves: Vec<Bound<'py, PyAny>> = leaves.try_iter()?.collect::<PyResult<_>>()?;
    if leaves.len() != treedef.node.leaves {
        return Err(PyValueError::new_err(format!(
            "tree structure {} has {} leaves, got {}",
            treedef.__repr__(py)?,
            treedef.node.leaves,
            leaves.len()
        )));
    }
    treedef.node.unflatten(py, leaves)
}

/// Make `nodetype` a pytree container: `flatten_func(x)` returns
/// `(children, aux_data)` and `unflatten_func(aux_data, children)` rebuilds it.
#[pyfunction]
pub fn register_pytree_node(
    nodetype: &Bound<'_, PyType>,
    flatten_func: &Bound<'_, PyAny>,
    unflatten_func: &Bound<'_, PyAny>,
) -> PyResult<()> {
    let py = nodetype.py();
    let builtin = [
        py.get_type::<PyTuple>(),
        py.get_type::<PyList>(),
        py.get_type::<PyDict>(),
        py.None().into_bound(py).get_type(),
    ];
    if registered(nodetype)?.is_some() || builtin.iter().any(|t| t.is(nodetype)) {
        return Err(PyValueError::new_err(format!(
            "{} is already registered as a pytree node",
            nodetype.repr()?
        )));
    }
    registry(py).set_item(nodetype, (flatten_func, unflatten_func))
}
