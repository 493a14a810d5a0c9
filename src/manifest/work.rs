//! A work meter for the regression test of issue #10.3 (manifests read in linear time).
//!
//! The places where the work done for one item of a manifest could depend on the size of the
//! rest of it call [`add`] with the units they spend: key comparisons when looking for duplicate
//! keys, bytes scanned to turn an offset into a column, bytes written into JSON pointers,
//! character pairs compared by the did-you-mean search. In test builds the units add up per
//! thread and `manifest::tests` asserts that they grow linearly with the input; in every other
//! build [`add`] is empty and compiles away.

#[cfg(test)]
thread_local! {
    static UNITS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Records `units` of work (test builds only).
#[inline(always)]
pub(crate) fn add(units: usize) {
    #[cfg(test)]
    UNITS.with(|u| u.set(u.get() + units as u64));
    #[cfg(not(test))]
    let _ = units;
}

/// The units recorded on this thread since the last call.
#[cfg(test)]
pub(crate) fn take() -> u64 {
    UNITS.with(|u| u.replace(0))
}
