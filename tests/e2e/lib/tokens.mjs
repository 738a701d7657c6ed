// JWTs for tests, signed with Node's crypto (HS*, RS*, ES*), independent of gyre's own code.
import crypto from 'node:crypto';

const b64url = (buf) => Buffer.from(buf).toString('base64url');

export function sign(claims, { alg = 'HS256', key }) {
  const header = b64url(JSON.stringify({ alg, typ: 'JWT' }));
  const payload = b64url(typeof claims === 'string' ? claims : JSON.stringify(claims));
  const input = `${header}.${payload}`;
  const bits = alg.slice(2);
  let sig;
  if (alg.startsWith('HS')) {
    sig = crypto.createHmac(`sha${bits}`, key).update(input).digest();
  } else if (alg.startsWith('RS')) {
    sig = crypto.sign(`sha${bits}`, Buffer.from(input), key);
  } else if (alg.startsWith('ES')) {
    sig = crypto.sign(`sha${bits}`, Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  } else {
    sig = Buffer.alloc(0);
  }
  return `${input}.${b64url(sig)}`;
}

export const now = () => Math.floor(Date.now() / 1000);

export function rsaKeys() {
  return crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
}

export function ecKeys(namedCurve = 'P-256') {
  return crypto.generateKeyPairSync('ec', { namedCurve });
}

export const pem = (publicKey) => publicKey.export({ type: 'spki', format: 'pem' });
