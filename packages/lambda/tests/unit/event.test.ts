import { buildS3Event, decodeS3Key, encodeS3Key } from '@logzip/core/events';
import { describe, expect, it } from 'vitest';
import { parseInvocationEvent } from '../../src/event.js';

// The record as the production write-up quotes it (eventVersion 2.0), keys URL-encoded by S3.
function seedRecord(key: string, overrides: Record<string, unknown> = {}) {
  return {
    eventVersion: '2.0',
    eventSource: 'aws:s3',
    awsRegion: 'us-east-1',
    eventTime: '2017-12-22T00:00:00.000Z',
    eventName: 'ObjectCreated:Put',
    userIdentity: { principalId: 'AWS:xxx' },
    requestParameters: { sourceIPAddress: '10.0.0.1' },
    responseElements: { 'x-amz-request-id': '1234567', 'x-amz-id-2': 'xxxxx' },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'ZipUploadedEvent',
      bucket: { name: 'logs', ownerIdentity: { principalId: 'xxxxx' }, arn: 'arn:aws:s3:::logs' },
      object: { key, size: 12345, eTag: 'abcde', sequencer: '12345' },
    },
    ...overrides,
  };
}

describe('decodeS3Key', () => {
  it('turns + into a space before percent-decoding, so a literal + (%2B) survives', () => {
    // Prepare
    const encoded = 'incoming/ab/cd/54321-my+log+%2B+more.zip';
    // Act
    const key = decodeS3Key(encoded);
    // Assess
    expect(key).toBe('incoming/ab/cd/54321-my log + more.zip');
  });

  it('decodes Japanese characters and round-trips with encodeS3Key', () => {
    // Prepare
    const key = 'incoming/ab/cd/54321-ログ ファイル 表.zip';
    // Act
    const encoded = encodeS3Key(key);
    // Assess
    expect(encoded).toBe(
      'incoming/ab/cd/54321-%E3%83%AD%E3%82%B0+%E3%83%95%E3%82%A1%E3%82%A4%E3%83%AB+%E8%A1%A8.zip',
    );
    expect(decodeS3Key(encoded)).toBe(key);
  });

  it('returns undefined for a malformed escape', () => {
    // Act + Assess
    expect(decodeS3Key('incoming/%E3%83.zip')).toBeUndefined();
  });
});

describe('parseInvocationEvent', () => {
  it('reads an eventVersion 2.0 record with its request ids', () => {
    // Prepare
    const event = { Records: [seedRecord('xx/xx/54321-xxxx.zip')] };
    // Act
    const [work] = parseInvocationEvent(event);
    // Assess
    expect(work).toEqual({
      kind: 'archive',
      origin: 's3',
      run: 'upload',
      bucket: 'logs',
      key: 'xx/xx/54321-xxxx.zip',
      eventName: 'ObjectCreated:Put',
      eventTime: '2017-12-22T00:00:00.000Z',
      size: 12345,
      etag: 'abcde',
      sequencer: '12345',
      s3RequestId: '1234567',
      s3Id2: 'xxxxx',
    });
  });

  it('reads an eventVersion 2.1 record built like S3 builds it, with many records', () => {
    // Prepare
    const object = {
      bucket: 'logs',
      key: 'incoming/ab/cd/777-日本語 ログ.zip',
      size: 10,
      etag: 'e',
      lastModified: new Date(),
    };
    const one = buildS3Event(object).Records[0];
    const two = buildS3Event({ ...object, key: 'incoming/x.txt' }).Records[0];
    // Act
    const work = parseInvocationEvent({ Records: [one, two] });
    // Assess
    expect(work.map((w) => w.kind === 'archive' && w.key)).toEqual([
      'incoming/ab/cd/777-日本語 ログ.zip',
      'incoming/x.txt',
    ]);
  });

  it('skips s3:TestEvent, removal events, other versions and unknown shapes with a reason', () => {
    // Prepare
    const events = [
      { Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: 'logs', RequestId: 'R', HostId: 'H' },
      { Records: [seedRecord('incoming/1.zip', { eventName: 'ObjectRemoved:Delete' })] },
      { Records: [seedRecord('incoming/1.zip', { eventVersion: '1.0' })] },
      { Records: [{ hello: 'world' }] },
      { something: 'else' },
      'text',
      { Records: [] },
    ];
    // Act
    const kinds = events.flatMap((event) => parseInvocationEvent(event).map((w) => w.kind));
    // Assess
    expect(kinds).toEqual(['skip', 'skip', 'skip', 'skip', 'skip', 'skip', 'skip']);
    expect(parseInvocationEvent(events[0])[0]).toMatchObject({
      s3RequestId: 'R',
      s3Id2: 'H',
      bucket: 'logs',
    });
  });

  it('accepts the re-run payload and refuses a malformed one without throwing', () => {
    // Act
    const ok = parseInvocationEvent({
      logId: '54321',
      bucket: 'logs',
      key: 'incoming/54321.zip',
      force: true,
    });
    const bad = parseInvocationEvent({ logId: '../x', bucket: 'logs', key: 'incoming/54321.zip' });
    // Assess
    expect(ok).toEqual([
      {
        kind: 'archive',
        origin: 'rerun',
        run: 'reenqueue',
        logId: '54321',
        bucket: 'logs',
        key: 'incoming/54321.zip',
        force: true,
      },
    ]);
    expect(bad[0]).toMatchObject({ kind: 'skip', key: 'incoming/54321.zip' });
    expect(
      parseInvocationEvent({
        logId: '54321',
        bucket: 'logs',
        key: 'incoming/54321.zip',
        encoding: 'cp437',
        run: 'operation',
      }),
    ).toEqual([
      {
        kind: 'archive',
        origin: 'rerun',
        run: 'operation',
        logId: '54321',
        bucket: 'logs',
        key: 'incoming/54321.zip',
        encoding: 'cp437',
      },
    ]);
    expect(bad[0]?.kind === 'skip' && bad[0].reason).toMatch(/invalid re-run payload \(logId:/);
  });
});
