export interface ScoredId {
  id: string;
  score: number;
}

/**
 * Keeps the `capacity` best entries seen so far in a binary min-heap, so memory stays
 * bounded however many candidates pass through. Higher scores are better, and equal
 * scores prefer the smaller id, which makes results deterministic.
 */
export class TopKHeap {
  private readonly entries: ScoredId[] = [];

  constructor(private readonly capacity: number) {}

  offer(entry: ScoredId): void {
    if (this.entries.length < this.capacity) {
      this.entries.push(entry);
      this.siftUp(this.entries.length - 1);
      return;
    }
    if (this.capacity > 0 && isBetter(entry, this.entries[0])) {
      this.entries[0] = entry;
      this.siftDown(0);
    }
  }

  /** Returns the kept entries, best first. */
  sorted(): ScoredId[] {
    return [...this.entries].sort((left, right) => (isBetter(left, right) ? -1 : isBetter(right, left) ? 1 : 0));
  }

  private siftUp(index: number): void {
    let child = index;
    while (child > 0) {
      const parent = (child - 1) >> 1;
      if (!isBetter(this.entries[parent], this.entries[child])) {
        return;
      }
      this.swap(parent, child);
      child = parent;
    }
  }

  private siftDown(index: number): void {
    let parent = index;
    for (;;) {
      const left = parent * 2 + 1;
      const right = left + 1;
      let worst = parent;
      if (left < this.entries.length && isBetter(this.entries[worst], this.entries[left])) {
        worst = left;
      }
      if (right < this.entries.length && isBetter(this.entries[worst], this.entries[right])) {
        worst = right;
      }
      if (worst === parent) {
        return;
      }
      this.swap(parent, worst);
      parent = worst;
    }
  }

  private swap(first: number, second: number): void {
    [this.entries[first], this.entries[second]] = [this.entries[second], this.entries[first]];
  }
}

function isBetter(candidate: ScoredId, other: ScoredId): boolean {
  if (candidate.score !== other.score) {
    return candidate.score > other.score;
  }
  return candidate.id < other.id;
}
