import { Readable, Writable } from 'node:stream';
import { expect, it } from 'vitest';
import { createProgressBar } from '../../src/cli/io.js';

it('regression (issue 17): the extract and upload progress bar shows sizes in KiB/MiB, not raw bytes', () => {
  // Prepare: stderr that says it is a terminal
  let text = '';
  const stderr = Object.assign(
    new Writable({
      write(chunk, _encoding, done) {
        text += String(chunk);
        done();
      },
    }),
    { isTTY: true, columns: 100 },
  );
  const io = { stdout: new Writable(), stderr, stdin: Readable.from([]), env: {}, cwd: '/' };

  // Act
  const bar = createProgressBar(io, 'extracting 54321', { unit: 'bytes' });
  bar.update(3 * 2 ** 20 + 2 ** 19, 12 * 2 ** 20);
  bar.end();

  // Assess
  expect(text).toContain('29% 3.5 MiB/12 MiB');
  expect(text).not.toMatch(/\d{7}/);
});
