import { compileLogIdPattern } from '@logzip/core';
import { codeOfDestination, parseDestinationMessage } from '@logzip/core/events';
import { describe, expect, it } from 'vitest';

const pattern = compileLogIdPattern();

function payload(
  requestPayload: unknown,
  response: unknown = { errorType: 'Error', errorMessage: 'boom', trace: ['Error: boom'] },
) {
  return JSON.stringify({
    version: '1.0',
    timestamp: '2026-11-28T10:00:00.000Z',
    requestContext: {
      requestId: 'req-1',
      functionArn: 'arn:x',
      condition: 'RetriesExhausted',
      approximateInvokeCount: 3,
    },
    requestPayload,
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    responsePayload: response,
  });
}

describe('parseDestinationMessage', () => {
  it('takes the archive from an S3 event, decoding its key', () => {
    // Act
    const parsed = parseDestinationMessage(
      payload({
        Records: [
          {
            s3: {
              bucket: { name: 'logs' },
              object: { key: 'incoming/ab/cd/54321-%E3%83%AD%E3%82%B0+1.zip' },
            },
          },
        ],
      }),
      pattern,
    );

    // Assess
    expect(parsed).toEqual({
      ok: true,
      failures: [
        expect.objectContaining({
          logId: '54321',
          source: { bucket: 'logs', key: 'incoming/ab/cd/54321-ログ 1.zip' },
          requestId: 'req-1',
          attempt: 3,
          code: 'internal',
          message: 'boom',
          at: new Date('2026-11-28T10:00:00.000Z'),
        }),
      ],
    });
  });

  it('takes the archive from a re-run payload', () => {
    const parsed = parseDestinationMessage(
      payload({ logId: 'abc', bucket: 'logs', key: 'incoming/x.zip' }),
      pattern,
    );
    expect(parsed.ok && parsed.failures[0]).toMatchObject({
      logId: 'abc',
      source: { bucket: 'logs', key: 'incoming/x.zip' },
    });
  });

  it('describes an expired event that never ran', () => {
    const parsed = parseDestinationMessage(
      payload({ logId: 'abc', bucket: 'b', key: 'k.zip' }, null),
      pattern,
    );
    expect(parsed.ok && parsed.failures[0]?.message).toMatch(/RetriesExhausted|expired/);
  });

  it('refuses what it cannot read, with the reason', () => {
    expect(parseDestinationMessage('nope', pattern)).toEqual({
      ok: false,
      reason: 'the message is not JSON',
    });
    expect(parseDestinationMessage('{"timestamp":"x"}', pattern).ok).toBe(false);
    expect(parseDestinationMessage(payload({ something: 'else' }), pattern)).toMatchObject({ ok: false });
    expect(
      parseDestinationMessage(
        payload({ Records: [{ s3: { bucket: { name: 'b' }, object: { key: 'incoming/no%20id!.zip' } } }] }),
        pattern,
      ),
    ).toMatchObject({ ok: false, reason: expect.stringMatching(/log ID/) });
  });
});

describe('codeOfDestination', () => {
  it('maps error types and messages to codes', () => {
    expect(codeOfDestination('storage_unavailable', 'x')).toBe('storage_unavailable');
    expect(codeOfDestination('Sandbox.Timedout', 'RequestId: 1 Task timed out after 900.01 seconds')).toBe(
      'timeout',
    );
    expect(codeOfDestination('Runtime.ExitError', 'Runtime exited with error: signal: killed')).toBe(
      'internal',
    );
    expect(codeOfDestination(undefined, undefined)).toBe('internal');
  });
});
