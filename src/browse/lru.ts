/**
 * A small least-recently-used map bounded by a total weight (bytes, entries, …). `get` refreshes an entry; `set`
 * evicts the oldest entries until the total fits. A single value heavier than the bound is not kept at all.
 */
export class Lru<K, V> {
  readonly #map = new Map<K, { value: V; weight: number }>();
  readonly #max: number;
  readonly #weigh: (v: V) => number;
  #total = 0;

  constructor(maxWeight: number, weigh: (v: V) => number = () => 1) {
    this.#max = maxWeight;
    this.#weigh = weigh;
  }

  get(key: K): V | undefined {
    const e = this.#map.get(key);
    if (e === undefined) return undefined;
    this.#map.delete(key);
    this.#map.set(key, e);
    return e.value;
  }

  set(key: K, value: V): void {
    const old = this.#map.get(key);
    if (old !== undefined) {
      this.#map.delete(key);
      this.#total -= old.weight;
    }
    const weight = this.#weigh(value);
    if (weight > this.#max) return;
    this.#map.set(key, { value, weight });
    this.#total += weight;
    for (const [k, e] of this.#map) {
      if (this.#total <= this.#max) break;
      this.#map.delete(k);
      this.#total -= e.weight;
    }
  }

  get size(): number {
    return this.#map.size;
  }

  get weight(): number {
    return this.#total;
  }
}
