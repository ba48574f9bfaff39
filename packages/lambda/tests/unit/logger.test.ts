import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLambdaLogger } from '../../src/logger.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, destination };
}

describe('createLambdaLogger', () => {
  it('binds each key once even when the engine binds logId, bucket and key again', () => {
    // Prepare
    const { lines, destination } = capture();
    const logger = createLambdaLogger({ destination });
    const bound = { logId: '54321', bucket: 'logs', key: 'incoming/54321.zip' };
    // Act
    logger
      .child({ awsRequestId: 'req-1', s3RequestId: 'S3R', s3Id2: 'ID2' })
      .child(bound)
      .child(bound)
      .info({}, 'hi');
    // Assess
    const line = lines[0] ?? '';
    expect(line.match(/"logId"/g)).toHaveLength(1);
    expect(JSON.parse(line)).toMatchObject({
      awsRequestId: 'req-1',
      s3RequestId: 'S3R',
      s3Id2: 'ID2',
      ...bound,
    });
  });

  it('redacts secrets', () => {
    // Prepare
    const { lines, destination } = capture();
    // Act
    createLambdaLogger({ destination }).info({ token: 'abc', nested: { password: 'p' } }, 'x');
    // Assess
    expect(lines[0]).not.toContain('abc');
    expect(lines[0]).not.toContain('"p"');
  });
});
