/**
 * A compact set of blob ids for sets as large as the repository (prune's used set): open addressing over 64 bits of
 * each id (bytes `offset`..`offset+8`, default the first 8), two Uint32Array words and a state byte per slot, load
 * factor at most 1/2: 18–36 bytes per member. Blob ids are keyed HMACs, so their bits are uniform and serve as the
 * hash directly.
 *
 * Only those 64 bits are stored: two ids sharing them are one member. For prune's used set that is the safe
 * direction: a blob that only collides with a used one looks used and is kept (the chance is ~n²/2⁶⁵, about 3·10⁻⁶
 * for ten million blobs).
 */
export class BlobIdSet {
  #hi: Uint32Array;
  #lo: Uint32Array;
  /** per slot: 1 occupied, 2 occupied and flagged */
  #state: Uint8Array;
  #mask: number;
  #size = 0;
  #flagged = 0;
  readonly #offset: number;

  constructor(capacity = 1024, offset = 0) {
    this.#offset = offset;
    let slots = 16;
    while (slots < capacity * 2) slots *= 2;
    this.#hi = new Uint32Array(slots);
    this.#lo = new Uint32Array(slots);
    this.#state = new Uint8Array(slots);
    this.#mask = slots - 1;
  }

  get size(): number {
    return this.#size;
  }

  /** Members flagged with `flag`. */
  get flagged(): number {
    return this.#flagged;
  }

  /** Adds an id (32 bytes, or 64 hex digits); returns true when it was not yet a member. */
  add(id: Uint8Array | string): boolean {
    const [hi, lo] = prefix(id, this.#offset);
    let i = this.#find(hi, lo);
    if (this.#state[i] !== 0) return false;
    if ((this.#size + 1) * 2 > this.#state.length) {
      this.#grow();
      i = this.#find(hi, lo);
    }
    this.#hi[i] = hi;
    this.#lo[i] = lo;
    this.#state[i] = 1;
    this.#size++;
    return true;
  }

  has(id: Uint8Array | string): boolean {
    const [hi, lo] = prefix(id, this.#offset);
    return this.#state[this.#find(hi, lo)] !== 0;
  }

  /** Flags a member; returns true when `id` is a member that was not flagged yet. */
  flag(id: Uint8Array | string): boolean {
    const [hi, lo] = prefix(id, this.#offset);
    const i = this.#find(hi, lo);
    if (this.#state[i] !== 1) return false;
    this.#state[i] = 2;
    this.#flagged++;
    return true;
  }

  isFlagged(id: Uint8Array | string): boolean {
    const [hi, lo] = prefix(id, this.#offset);
    return this.#state[this.#find(hi, lo)] === 2;
  }

  /** Clears every flag. */
  clearFlags(): void {
    for (let i = 0; i < this.#state.length; i++) if (this.#state[i] === 2) this.#state[i] = 1;
    this.#flagged = 0;
  }

  /** The slot holding (hi, lo), or the empty slot where it would go. */
  #find(hi: number, lo: number): number {
    let i = (lo ^ hi) & this.#mask;
    while (this.#state[i] !== 0 && (this.#hi[i] !== hi || this.#lo[i] !== lo)) i = (i + 1) & this.#mask;
    return i;
  }

  #grow(): void {
    const [hi, lo, state] = [this.#hi, this.#lo, this.#state];
    const slots = state.length * 2;
    this.#hi = new Uint32Array(slots);
    this.#lo = new Uint32Array(slots);
    this.#state = new Uint8Array(slots);
    this.#mask = slots - 1;
    for (let j = 0; j < state.length; j++) {
      const s = state[j] as number;
      if (s === 0) continue;
      const i = this.#find(hi[j] as number, lo[j] as number);
      this.#hi[i] = hi[j] as number;
      this.#lo[i] = lo[j] as number;
      this.#state[i] = s;
    }
  }
}

function prefix(id: Uint8Array | string, at: number): [number, number] {
  if (typeof id === 'string') return [Number.parseInt(id.slice(at * 2, at * 2 + 8), 16) >>> 0, Number.parseInt(id.slice(at * 2 + 8, at * 2 + 16), 16) >>> 0];
  const word = (i: number): number => (((id[i] as number) << 24) | ((id[i + 1] as number) << 16) | ((id[i + 2] as number) << 8) | (id[i + 3] as number)) >>> 0;
  return [word(at), word(at + 4)];
}
