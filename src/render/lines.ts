// Builds a listing line by line. Appending 100,000 lines with `+=` makes a rope of small strings about
// seven times the size of the text (50 MB for a 7 MB ipvsadm listing) that stays alive, and is copied by
// the garbage collector, until something flattens it. Joining lines in batches keeps only flat text alive.

const BATCH = 1024;

export class LineWriter {
  private batch: string[] = [];
  private readonly chunks: string[] = [];

  /** Adds `text` and a newline. */
  line(text: string): void {
    this.batch.push(text);
    if (this.batch.length === BATCH) this.flush();
  }

  /** Everything written so far, as one string. */
  text(): string {
    this.flush();
    return this.chunks.join('');
  }

  private flush(): void {
    if (this.batch.length === 0) return;
    this.batch.push(''); // the newline after the batch's last line
    this.chunks.push(this.batch.join('\n'));
    this.batch = [];
  }
}
