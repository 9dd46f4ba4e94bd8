// Keys a table has let go of, remembered for a while: the idempotency window. A task
// expunged from the broker's state leaves only its id here, so a producer's retry of its
// submission days later is still recognised. There may be millions, so an id takes 24
// bytes in one flat open-addressing table (16 for a UUID, 8 for when it was retired)
// instead of a JavaScript string and object; keys that are not UUIDs fall back to a Map.

const SLOT_BYTES = 24;
const EMPTY = 0;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class RetiredKeys {
  private slots: Buffer;
  private capacity: number;
  private count = 0;
  private readonly others = new Map<string, number>();
  private readonly probe = Buffer.alloc(16);

  constructor(initialCapacity = 1024) {
    this.capacity = initialCapacity;
    this.slots = Buffer.alloc(initialCapacity * SLOT_BYTES);
  }

  get size(): number {
    return this.count + this.others.size;
  }

  /** When `key` was retired, or undefined. */
  retiredAt(key: string): number | undefined {
    if (!UUID.test(key)) return this.others.get(key);
    const slot = this.find(this.idOf(key));
    return slot < 0 ? undefined : this.slots.readDoubleLE(slot * SLOT_BYTES + 16);
  }

  has(key: string): boolean {
    return this.retiredAt(key) !== undefined;
  }

  add(key: string, at: number): void {
    if (!UUID.test(key)) {
      this.others.set(key, at);
      return;
    }
    if ((this.count + 1) * 10 > this.capacity * 6) this.grow();
    const id = this.idOf(key);
    const found = this.find(id);
    const slot = found >= 0 ? found : this.freeSlotFor(id);
    if (found < 0) {
      id.copy(this.slots, slot * SLOT_BYTES);
      this.count += 1;
    }
    // Never 0, which marks a free slot.
    this.slots.writeDoubleLE(at === EMPTY ? 1 : at, slot * SLOT_BYTES + 16);
  }

  delete(key: string): void {
    if (!UUID.test(key)) {
      this.others.delete(key);
      return;
    }
    const slot = this.find(this.idOf(key));
    if (slot >= 0) this.removeAt(slot);
  }

  /** Up to `limit` keys retired before `before` (their window is over). */
  expired(before: number, limit: number): string[] {
    const keys: string[] = [];
    for (let slot = 0; slot < this.capacity && keys.length < limit; slot++) {
      const at = this.slots.readDoubleLE(slot * SLOT_BYTES + 16);
      if (at !== EMPTY && at < before) keys.push(uuidOf(this.slots.subarray(slot * SLOT_BYTES, slot * SLOT_BYTES + 16)));
    }
    for (const [key, at] of this.others) {
      if (keys.length >= limit) break;
      if (at < before) keys.push(key);
    }
    return keys;
  }

  private idOf(key: string): Buffer {
    this.probe.write(key.slice(0, 8) + key.slice(9, 13) + key.slice(14, 18) + key.slice(19, 23) + key.slice(24), 'hex');
    return this.probe;
  }

  /** The slot holding `id`, or -1. Linear probing from the id's hash. */
  private find(id: Buffer): number {
    for (let slot = this.home(id); ; slot = (slot + 1) % this.capacity) {
      const base = slot * SLOT_BYTES;
      if (this.slots.readDoubleLE(base + 16) === EMPTY) return -1;
      if (this.slots.compare(id, 0, 16, base, base + 16) === 0) return slot;
    }
  }

  private freeSlotFor(id: Buffer): number {
    let slot = this.home(id);
    while (this.slots.readDoubleLE(slot * SLOT_BYTES + 16) !== EMPTY) slot = (slot + 1) % this.capacity;
    return slot;
  }

  private home(id: Buffer): number {
    // UUID v7 starts with the time; mix all four words so neighbours in time spread out.
    let h = Math.imul(id.readUInt32LE(0) ^ id.readUInt32LE(12), 0x9e3779b1) ^ Math.imul(id.readUInt32LE(4) ^ id.readUInt32LE(8), 0x85ebca6b);
    h ^= h >>> 15;
    return (h >>> 0) % this.capacity;
  }

  /** Backward-shift deletion: later entries of the same run move up, so lookups never need tombstones. */
  private removeAt(start: number): void {
    let hole = start;
    for (let slot = (hole + 1) % this.capacity; ; slot = (slot + 1) % this.capacity) {
      const base = slot * SLOT_BYTES;
      if (this.slots.readDoubleLE(base + 16) === EMPTY) break;
      const home = this.home(this.slots.subarray(base, base + 16));
      // Move the entry into the hole when the hole lies between its home and its slot.
      const between = hole <= slot ? home <= hole || home > slot : home <= hole && home > slot;
      if (between) {
        this.slots.copy(this.slots, hole * SLOT_BYTES, base, base + SLOT_BYTES);
        hole = slot;
      }
    }
    this.slots.fill(0, hole * SLOT_BYTES, hole * SLOT_BYTES + SLOT_BYTES);
    this.count -= 1;
  }

  private grow(): void {
    const old = this.slots;
    const oldCapacity = this.capacity;
    this.capacity *= 2;
    this.slots = Buffer.alloc(this.capacity * SLOT_BYTES);
    this.count = 0;
    for (let slot = 0; slot < oldCapacity; slot++) {
      const base = slot * SLOT_BYTES;
      const at = old.readDoubleLE(base + 16);
      if (at === EMPTY) continue;
      const id = old.subarray(base, base + 16);
      const target = this.freeSlotFor(id);
      old.copy(this.slots, target * SLOT_BYTES, base, base + SLOT_BYTES);
      this.count += 1;
    }
  }
}

function uuidOf(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The changelog value of a retired key: a zero byte (no serde writes one first: JSON never
 * starts with it), 'R', and when it was retired. Compaction keeps it until the sweep
 * writes the key's tombstone at the end of its window.
 */
const MARKER = Buffer.from([0x00, 0x52]);

export function retiredMarker(at: number): Buffer {
  const value = Buffer.alloc(MARKER.length + 8);
  MARKER.copy(value);
  value.writeDoubleBE(at, MARKER.length);
  return value;
}

/** When the key of this changelog value was retired, or undefined for any other value. */
export function retiredAtOf(value: Buffer): number | undefined {
  if (value.length !== MARKER.length + 8 || value[0] !== MARKER[0] || value[1] !== MARKER[1]) return undefined;
  return value.readDoubleBE(MARKER.length);
}
