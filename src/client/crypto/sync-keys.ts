import { openWithKey, sealWithKey } from './aead.js';
import { fromBase64Url, randomBytes, toBase64Url, utf8 } from '../../protocol/encoding.js';

// Keys and metadata of synced data. Collection keys are sealed by the master key, item keys by
// their collection key, and metadata by the key of what it describes. Every AD names the account
// and the ids (and, for metadata, the version), so the server cannot move ciphertext between
// accounts, collections, items or versions without the client noticing.

const ad = (...parts: (string | number)[]) => utf8(`homing/v1/${parts.join('/')}`);

const sealJson = (key: Uint8Array, value: unknown, associated: Uint8Array) =>
  toBase64Url(sealWithKey(key, utf8(JSON.stringify(value)), associated));

const openJson = <T>(key: Uint8Array, sealed: string, associated: Uint8Array) =>
  JSON.parse(new TextDecoder().decode(openWithKey(key, fromBase64Url(sealed), associated))) as T;

export const newSymmetricKey = () => randomBytes(32);

export interface CollectionIds {
  accountId: string;
  collectionId: string;
}

export interface ItemIds extends CollectionIds {
  itemId: string;
}

export const wrapCollectionKey = (masterKey: Uint8Array, ids: CollectionIds, key: Uint8Array) =>
  toBase64Url(sealWithKey(masterKey, key, ad('collection-key', ids.accountId, ids.collectionId)));

export const unwrapCollectionKey = (masterKey: Uint8Array, ids: CollectionIds, wrapped: string) =>
  openWithKey(masterKey, fromBase64Url(wrapped), ad('collection-key', ids.accountId, ids.collectionId));

export const sealCollectionMetadata = (key: Uint8Array, ids: CollectionIds, version: number, value: unknown) =>
  sealJson(key, value, ad('collection-metadata', ids.accountId, ids.collectionId, version));

export const openCollectionMetadata = <T>(key: Uint8Array, ids: CollectionIds, version: number, sealed: string) =>
  openJson<T>(key, sealed, ad('collection-metadata', ids.accountId, ids.collectionId, version));

export const wrapItemKey = (collectionKey: Uint8Array, ids: ItemIds, key: Uint8Array) =>
  toBase64Url(sealWithKey(collectionKey, key, ad('item-key', ids.accountId, ids.collectionId, ids.itemId)));

export const unwrapItemKey = (collectionKey: Uint8Array, ids: ItemIds, wrapped: string) =>
  openWithKey(collectionKey, fromBase64Url(wrapped), ad('item-key', ids.accountId, ids.collectionId, ids.itemId));

/** Item metadata is sealed for one version: AD = account‖collection‖item‖version. */
export const sealItemMetadata = (itemKey: Uint8Array, ids: ItemIds, version: number, value: unknown) =>
  sealJson(itemKey, value, ad('item-metadata', ids.accountId, ids.collectionId, ids.itemId, version));

export const openItemMetadata = <T>(itemKey: Uint8Array, ids: ItemIds, version: number, sealed: string) =>
  openJson<T>(itemKey, sealed, ad('item-metadata', ids.accountId, ids.collectionId, ids.itemId, version));
