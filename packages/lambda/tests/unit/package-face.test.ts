import { expect, it } from 'vitest';

// Regression: importing @logzip/lambda built a handler from process.env and threw without
// LOGZIP_INCOMING_BUCKET. Only the bundle's entry (src/handler.ts) reads the environment.
it('imports @logzip/lambda without reading the environment', async () => {
  // Prepare
  const saved = process.env['LOGZIP_INCOMING_BUCKET'];
  delete process.env['LOGZIP_INCOMING_BUCKET'];
  try {
    // Act
    const lambda = await import('@logzip/lambda');
    // Assess
    expect(typeof lambda.createHandler).toBe('function');
    expect(Object.keys(lambda)).not.toContain('handler');
  } finally {
    if (saved !== undefined) process.env['LOGZIP_INCOMING_BUCKET'] = saved;
  }
});
