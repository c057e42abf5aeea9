/** Writes each item as one JSON line to stdout, in 64 KiB chunks that respect backpressure (a pipe to a slow reader). */
export async function writeNdjson(items: Iterable<unknown>): Promise<void> {
  const out = process.stdout;
  let buffer = '';
  for (const item of items) {
    buffer += `${JSON.stringify(item)}\n`;
    if (buffer.length > 1 << 16) {
      if (!out.write(buffer)) await new Promise((resolve) => out.once('drain', resolve));
      buffer = '';
    }
  }
  await new Promise<void>((resolve, reject) => out.write(buffer, (error) => (error ? reject(error) : resolve())));
}
