export {};
export * from './zip/index.js';
