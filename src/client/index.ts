export * from './api.js';
export * from './account.js';
export * from './crypto/index.js';
