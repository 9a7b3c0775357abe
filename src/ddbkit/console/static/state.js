/* What the page remembers: the session, the table infos it has read, and item keys / links. */

import { api, enc } from "./api.js";

export const state = {
  session: null,
  infos: new Map(), // table name -> info (cached for the key names and indexes)
};

export function readOnly() {
  return !!(state.session && state.session.read_only);
}

export async function tableInfo(name, fresh) {
  if (!fresh && state.infos.has(name)) return state.infos.get(name);
  const data = await api("GET", `/api/tables/${enc(name)}`);
  state.infos.set(name, data.info);
  return data.info;
}

export function keyNamesOf(info) {
  const names = [info.partition_key.name];
  if (info.sort_key) names.push(info.sort_key.name);
  return names;
}

export function itemKey(item, keyNames) {
  const key = {};
  for (const name of keyNames) if (item[name] !== undefined) key[name] = item[name];
  return key;
}

export function itemHref(table, key) {
  return `#/table/${enc(table)}/item?key=${enc(JSON.stringify(key))}`;
}
