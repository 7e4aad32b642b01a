import type { Policy, PolicyOverrides } from './schema.js';

/**
 * Inheritance of policies: an extension's overrides over the default policy.
 *
 * Objects merge key by key, arrays replace (an extension that lists `allowCountries` gets
 * exactly that list, never a union with the default's), `null` is a value (a budget of null is
 * unlimited) and `undefined` is ignored. The result shares nothing with the inputs, so a caller
 * may change it without touching the stored default.
 */
export function mergePolicy(base: Policy, overrides: PolicyOverrides): Policy {
  // Every key of base survives and each override value has its key's type, so the shape holds.
  return applyOverrides(structuredClone(base), overrides) as Policy;
}

/**
 * RFC 7396 JSON merge patch, for the admin API's PATCH of an extension's overrides: objects
 * merge, anything else replaces, and `null` deletes the key. On overrides, deleting a key means
 * "inherit the default again", so `{"budget":{"dailySpend":null}}` removes the extension's own
 * daily budget; it cannot make the budget unlimited. An unlimited budget is set with PUT of
 * the whole overrides object, where null is a value. The result is not validated: pass it to
 * validateOverrides before storing it.
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  return applyPatch(structuredClone(target), patch);
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads only own keys: a key such as "constructor" must not find Object.prototype's. */
function own(object: JsonObject, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

/** Defines rather than assigns, so that a "__proto__" key stays data and never a prototype. */
function setOwn(object: JsonObject, key: string, value: unknown): void {
  Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
}

/** `target` is a private copy and is changed in place; `over` is only read. */
function applyOverrides(target: unknown, over: unknown): unknown {
  if (!isObject(over) || !isObject(target)) return structuredClone(over);
  for (const [key, value] of Object.entries(over)) {
    if (value !== undefined) setOwn(target, key, applyOverrides(own(target, key), value));
  }
  return target;
}

/** `target` is a private copy and is changed in place; `patch` is only read. */
function applyPatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const result = isObject(target) ? target : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else if (value !== undefined) setOwn(result, key, applyPatch(own(result, key), value));
  }
  return result;
}
