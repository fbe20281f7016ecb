//! Sets, tables and vectors: insertion (always by copy), lookup, indexing, and `brook_iter`,
//! which walks any container in order in O(1) per step.
//!
//! Pointers into a container are borrowed: any change to the container may move its
//! elements, so they are valid only until the container is next modified or freed.

use std::collections::{btree_map, btree_set};

use super::data::{brook_data, mismatch};
use super::{
    Failure, FfiResult, arg, arg_mut, brook_status, guard, guard_or, optional, optional_out, out,
};
use crate::data::{Data, DataType, Set, Table, Vector};

fn set_mut<'a>(d: *mut brook_data, name: &str) -> FfiResult<&'a mut Set> {
    match &mut arg_mut(d, name)?.inner {
        Data::Set(s) => Ok(s),
        other => Err(mismatch(DataType::Set, other)),
    }
}

fn table_mut<'a>(d: *mut brook_data, name: &str) -> FfiResult<&'a mut Table> {
    match &mut arg_mut(d, name)?.inner {
        Data::Table(t) => Ok(t),
        other => Err(mismatch(DataType::Table, other)),
    }
}

fn vector_mut<'a>(d: *mut brook_data, name: &str) -> FfiResult<&'a mut Vector> {
    match &mut arg_mut(d, name)?.inner {
        Data::Vector(v) => Ok(v),
        other => Err(mismatch(DataType::Vector, other)),
    }
}

/// The number of elements of a set or vector, or of entries of a table.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_TYPE_MISMATCH if
/// `container` is not a set, table or vector. Out-parameters are written only when the
/// call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_container_len(
    container: *const brook_data,
    out_len: *mut usize,
) -> brook_status {
    guard(|| {
        let c = &arg(container, "container")?.inner;
        let out_len = out(out_len, "out_len")?;
        out_len.write(match c {
            Data::Set(s) => s.len(),
            Data::Table(t) => t.len(),
            Data::Vector(v) => v.len(),
            other => {
                return Err(Failure::mismatch(format!(
                    "expected a set, table or vector, got a {}",
                    other.data_type().name()
                )));
            }
        });
        Ok(())
    })
}

/// Inserts a copy of `elem` into `set`, unless an equal element is already there.
/// `*out_inserted` (which may be NULL if not wanted) tells which happened.
///
/// `elem` is only read; the caller still owns it. Invalidates pointers borrowed from `set`.
/// Returns BROOK_STATUS_NULL_ARGUMENT if `set` or `elem` is NULL,
/// BROOK_STATUS_TYPE_MISMATCH if `set` is not a set.
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_set_insert(
    set: *mut brook_data,
    elem: *const brook_data,
    out_inserted: *mut bool,
) -> brook_status {
    guard(|| {
        // Copied before `set` is borrowed mutably: `elem` may point into `set`.
        let elem = arg(elem, "elem")?.inner.clone();
        let out_inserted = optional_out(out_inserted);
        let inserted = set_mut(set, "set")?.insert(elem);
        if let Some(o) = out_inserted {
            o.write(inserted);
        }
        Ok(())
    })
}

/// Tells whether `set` holds an element equal to `elem`.
///
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_TYPE_MISMATCH if
/// `set` is not a set. Out-parameters are written only when the call returns
/// BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_set_contains(
    set: *const brook_data,
    elem: *const brook_data,
    out_contains: *mut bool,
) -> brook_status {
    guard(|| {
        let (set, elem) = (&arg(set, "set")?.inner, &arg(elem, "elem")?.inner);
        let out_contains = out(out_contains, "out_contains")?;
        let Data::Set(s) = set else {
            return Err(mismatch(DataType::Set, set));
        };
        out_contains.write(s.contains(elem));
        Ok(())
    })
}

/// Sets `table[key]` to a copy of `value`, replacing any value the key had.
///
/// `key` and `value` are only read; the caller still owns them. Invalidates pointers
/// borrowed from `table`.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_TYPE_MISMATCH if
/// `table` is not a table.
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_table_insert(
    table: *mut brook_data,
    key: *const brook_data,
    value: *const brook_data,
) -> brook_status {
    guard(|| {
        // Copied first: `key` or `value` may point into `table`.
        let key = arg(key, "key")?.inner.clone();
        let value = arg(value, "value")?.inner.clone();
        table_mut(table, "table")?.insert(key, value);
        Ok(())
    })
}

/// Looks up `key` in `table`: `*out_value` is the value, or NULL if the key is absent.
///
/// Borrowed: valid until `table` is modified or freed.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_TYPE_MISMATCH if
/// `table` is not a table. Out-parameters are written only when the call returns
/// BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_table_find(
    table: *const brook_data,
    key: *const brook_data,
    out_value: *mut *const brook_data,
) -> brook_status {
    guard(|| {
        let (table, key) = (&arg(table, "table")?.inner, &arg(key, "key")?.inner);
        let out_value = out(out_value, "out_value")?;
        let Data::Table(t) = table else {
            return Err(mismatch(DataType::Table, table));
        };
        out_value.write(t.get(key).map_or(std::ptr::null(), brook_data::borrowed));
        Ok(())
    })
}

/// Appends a copy of `elem` to `vector`.
///
/// `elem` is only read; the caller still owns it. Invalidates pointers borrowed from
/// `vector`.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_TYPE_MISMATCH if
/// `vector` is not a vector.
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_vector_push(
    vector: *mut brook_data,
    elem: *const brook_data,
) -> brook_status {
    guard(|| {
        // Copied first: `elem` may point into `vector`.
        let elem = arg(elem, "elem")?.inner.clone();
        vector_mut(vector, "vector")?.push(elem);
        Ok(())
    })
}

/// The element at `index` of `vector` (0-based).
///
/// Borrowed: valid until `vector` is modified or freed.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_TYPE_MISMATCH if
/// `vector` is not a vector, BROOK_STATUS_OUT_OF_RANGE if `index` is not below its length.
/// Out-parameters are written only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_vector_get(
    vector: *const brook_data,
    index: usize,
    out_elem: *mut *const brook_data,
) -> brook_status {
    guard(|| {
        let v = &arg(vector, "vector")?.inner;
        let out_elem = out(out_elem, "out_elem")?;
        let Data::Vector(v) = v else {
            return Err(mismatch(DataType::Vector, v));
        };
        let elem = v.get(index).ok_or_else(|| {
            Failure::new(
                brook_status::OutOfRange,
                format!("index {index} is out of range for a vector of {}", v.len()),
            )
        })?;
        out_elem.write(brook_data::borrowed(elem));
        Ok(())
    })
}

/// A position in a set, table or vector, walking it in order: Broker's order for sets and
/// table keys, insertion order for vectors.
///
/// Borrows its container, which must outlive it and must not be modified meanwhile.
/// Use from one thread at a time. Free with brook_iter_free().
pub struct brook_iter {
    inner: Iter,
}

// The `'static` is the C caller's promise above, not a fact Rust can check.
enum Iter {
    Set(btree_set::Iter<'static, Data>),
    Table(btree_map::Iter<'static, Data, Data>),
    Vector(std::slice::Iter<'static, Data>),
}

/// Starts an iteration over the elements of a set or vector, or the entries of a table.
///
/// Caller owns the result; free it with brook_iter_free(). It borrows `container`, which
/// must not be modified or freed before the iterator is.
/// Returns BROOK_STATUS_NULL_ARGUMENT if an argument is NULL, BROOK_STATUS_TYPE_MISMATCH if
/// `container` is not a set, table or vector. Out-parameters are written only when the
/// call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_data_iter_new(
    container: *const brook_data,
    out_iter: *mut *mut brook_iter,
) -> brook_status {
    guard(|| {
        let c: &'static Data = &arg(container, "container")?.inner;
        let out_iter = out(out_iter, "out_iter")?;
        let inner = match c {
            Data::Set(s) => Iter::Set(s.iter()),
            Data::Table(t) => Iter::Table(t.iter()),
            Data::Vector(v) => Iter::Vector(v.iter()),
            other => {
                return Err(Failure::mismatch(format!(
                    "expected a set, table or vector, got a {}",
                    other.data_type().name()
                )));
            }
        };
        out_iter.write(Box::into_raw(Box::new(brook_iter { inner })));
        Ok(())
    })
}

/// Steps the iterator. For a set or vector, `*out_elem` is the next element and
/// `*out_value` NULL; for a table, `*out_elem` is the next key and `*out_value` its value.
/// At the end, `*out_done` is true and both pointers are NULL. `out_value` may be NULL if
/// not wanted.
///
/// Borrowed: the pointers are valid until the container is modified or freed.
/// Returns BROOK_STATUS_NULL_ARGUMENT if `iter`, `out_elem` or `out_done` is NULL.
/// Out-parameters are written only when the call returns BROOK_STATUS_OK.
#[unsafe(no_mangle)]
pub extern "C" fn brook_iter_next(
    iter: *mut brook_iter,
    out_elem: *mut *const brook_data,
    out_value: *mut *const brook_data,
    out_done: *mut bool,
) -> brook_status {
    guard(|| {
        let it = arg_mut(iter, "iter")?;
        let (out_elem, out_done) = (out(out_elem, "out_elem")?, out(out_done, "out_done")?);
        let out_value = optional_out(out_value);
        let (elem, value) = match &mut it.inner {
            Iter::Set(i) => (i.next(), None),
            Iter::Vector(i) => (i.next(), None),
            Iter::Table(i) => i.next().map_or((None, None), |(k, v)| (Some(k), Some(v))),
        };
        let ptr = |d: Option<&Data>| d.map_or(std::ptr::null(), brook_data::borrowed);
        out_done.write(elem.is_none());
        out_elem.write(ptr(elem));
        if let Some(o) = out_value {
            o.write(ptr(value));
        }
        Ok(())
    })
}

/// Frees an iterator (not its container). NULL does nothing.
///
/// Consumes `iter`: do not use or free it afterwards.
#[unsafe(no_mangle)]
pub extern "C" fn brook_iter_free(iter: *mut brook_iter) {
    guard_or((), || {
        if !iter.is_null() {
            // SAFETY: `iter` came from `brook_data_iter_new`, by contract.
            drop(unsafe { Box::from_raw(iter) });
        }
    })
}

/// Copies the `n` values of a C array of value pointers, checking each for NULL first, so
/// that a bad element fails the call before anything is published.
pub(crate) fn values_arg(values: *const *const brook_data, n: usize) -> FfiResult<Vec<Data>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    if values.is_null() {
        return Err(Failure::new(brook_status::NullArgument, "values is NULL"));
    }
    // SAFETY: C promises `n` readable pointers at `values`.
    let ptrs = unsafe { std::slice::from_raw_parts(values, n) };
    // The Rust batch takes owned values; copying them is the price of not touching the
    // caller's.
    ptrs.iter()
        .enumerate()
        .map(|(i, p)| {
            optional(*p).map(|d| d.inner.clone()).ok_or_else(|| {
                Failure::new(brook_status::NullArgument, format!("values[{i}] is NULL"))
            })
        })
        .collect()
}
