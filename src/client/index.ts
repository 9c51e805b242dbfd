export * from './api.js';
export * from './account.js';
export * from './crypto/index.js';
export * from './sync/engine.js';
export * from './sync/blob-transfer.js';
