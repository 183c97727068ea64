//! Handle tables: what the C ABI hands out instead of pointers.
//!
//! A handle is `kind << 56 | generation << 32 | slot`. Freeing a handle
//! empties its slot and bumps the slot's generation, so a freed (or
//! forged, or other-kind) handle is looked up as "no such handle" — a
//! status code, never a use-after-free. Handle `0` is never issued.

use std::sync::{Arc, Mutex};

struct Slot<T> {
    generation: u32,
    value: Option<Arc<T>>,
}

/// A table of values of one kind.
pub(crate) struct Table<T> {
    kind: u8,
    slots: Mutex<Vec<Slot<T>>>,
}

const GENERATION_MASK: u32 = 0x00ff_ffff;

impl<T> Table<T> {
    pub(crate) const fn new(kind: u8) -> Self {
        Table {
            kind,
            slots: Mutex::new(Vec::new()),
        }
    }

    fn encode(&self, slot: usize, generation: u32) -> u64 {
        (u64::from(self.kind) << 56) | (u64::from(generation & GENERATION_MASK) << 32) | slot as u64
    }

    fn decode(&self, handle: u64) -> Option<(usize, u32)> {
        if (handle >> 56) as u8 != self.kind {
            return None;
        }
        let generation = ((handle >> 32) as u32) & GENERATION_MASK;
        let slot = (handle & 0xffff_ffff) as usize;
        Some((slot, generation))
    }

    /// Stores `value`; `None` only when the table's lock is poisoned or full.
    pub(crate) fn insert(&self, value: T) -> Option<u64> {
        self.insert_arc(Arc::new(value))
    }

    /// Stores a shared `value`.
    pub(crate) fn insert_arc(&self, value: Arc<T>) -> Option<u64> {
        let mut slots = self.slots.lock().ok()?;
        let value = Some(value);
        if let Some(i) = slots.iter().position(|s| s.value.is_none()) {
            slots[i].value = value;
            return Some(self.encode(i, slots[i].generation));
        }
        if slots.len() >= u32::MAX as usize {
            return None;
        }
        slots.push(Slot {
            generation: 1,
            value,
        });
        Some(self.encode(slots.len() - 1, 1))
    }

    /// The value behind a live handle.
    pub(crate) fn get(&self, handle: u64) -> Option<Arc<T>> {
        let (i, generation) = self.decode(handle)?;
        let slots = self.slots.lock().ok()?;
        let slot = slots.get(i)?;
        if slot.generation != generation {
            return None;
        }
        slot.value.clone()
    }

    /// Frees a live handle and returns its value; `None` for a handle that
    /// is not live (already freed, forged, another kind).
    pub(crate) fn remove(&self, handle: u64) -> Option<Arc<T>> {
        let (i, generation) = self.decode(handle)?;
        let mut slots = self.slots.lock().ok()?;
        let slot = slots.get_mut(i)?;
        if slot.generation != generation {
            return None;
        }
        let value = slot.value.take()?;
        // Generation 0 is skipped so that no handle is ever 0.
        slot.generation = match (slot.generation + 1) & GENERATION_MASK {
            0 => 1,
            g => g,
        };
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_freed_handle_is_dead_even_when_its_slot_is_reused() {
        let t: Table<&str> = Table::new(1);
        let a = t.insert("a").unwrap_or_default();
        assert_eq!(t.get(a).as_deref(), Some(&"a"));
        assert!(t.remove(a).is_some());
        assert!(t.get(a).is_none());
        assert!(t.remove(a).is_none(), "double free is refused");
        let b = t.insert("b").unwrap_or_default();
        assert_ne!(a, b, "same slot, new generation");
        assert!(t.get(a).is_none());
        assert_eq!(t.get(b).as_deref(), Some(&"b"));
    }

    #[test]
    fn handles_of_another_kind_and_zero_are_refused() {
        let clients: Table<u8> = Table::new(1);
        let tasks: Table<u8> = Table::new(3);
        let c = clients.insert(7).unwrap_or_default();
        assert_ne!(c, 0);
        assert!(tasks.get(c).is_none());
        assert!(clients.get(0).is_none());
        assert!(clients.get(u64::MAX).is_none());
    }
}
