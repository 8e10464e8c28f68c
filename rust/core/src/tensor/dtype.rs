//! Element types and NumPy's promotion rules.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DType {
    Bool,
    I32,
    I64,
    F32,
    F64,
}

impl DType {
    pub const ALL: [DType; 5] = [DType::Bool, DType::I32, DType::I64, DType::F32, DType::F64];

    pub fn name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::I32 => "int32",
            DType::I64 => "int64",
            DType::F32 => "float32",
            DType::F64 => "float64",
        }
    }

    pub fn from_name(name: &str) -> Option<DType> {
        Some(match name {
            "bool" | "bool_" | "?" | "b1" => DType::Bool,
            "int32" | "i4" | "<i4" => DType::I32,
            "int64" | "i8" | "<i8" | "int" => DType::I64,
            "float32" | "f4" | "<f4" | "single" => DType::F32,
            "float64" | "f8" | "<f8" | "double" | "float" => DType::F64,
            _ => return None,
        })
    }

    pub fn size_of(self) -> usize {
        match self {
            DType::Bool => 1,
            DType::I32 | DType::F32 => 4,
            DType::I64 | DType::F64 => 8,
        }
    }

    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F64)
    }

    pub fn is_int(self) -> bool {
        matches!(self, DType::I32 | DType::I64)
    }

    /// NumPy's promotion of two array dtypes (int32 with float32 gives float64).
    pub fn promote(a: DType, b: DType) -> DType {
        use DType::*;
        if a == b {
            return a;
        }
        match (a.min(b), a.max(b)) {
            (Bool, other) => other,
            (I32, I64) => I64,
            (I32 | I64, F32) => F64,
            (_, F64) => F64,
            _ => unreachable!("ordered pair covers every case"),
        }
    }

    /// The float dtype a true division or a transcendental function of this dtype gives.
    pub fn to_float(self) -> DType {
        match self {
            DType::F32 => DType::F32,
            _ => DType::F64,
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::DType::{self, *};

    #[test]
    fn promotion_matches_numpy() {
        let table = [
            (Bool, I32, I32),
            (Bool, F32, F32),
            (I32, I64, I64),
            (I32, F32, F64),
            (I64, F32, F64),
            (F32, F64, F64),
            (I64, F64, F64),
            (F32, F32, F32),
        ];
        for (a, b, want) in table {
            assert_eq!(DType::promote(a, b), want, "{a} {b}");
            assert_eq!(DType::promote(b, a), want, "{b} {a}");
        }
    }
}
