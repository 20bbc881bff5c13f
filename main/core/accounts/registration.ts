// Creating an account on a server by in-band registration (XEP-0077): its form, then the
// submission, each on its own encrypted stream before any login (xmpp/pre-auth-stream.ts).
// The account is added by the core once the server said yes.
import xml from '@xmpp/xml';
import { bareJidSchema, type RegistrationForm } from '../../../preload/contract';
import { CommandFailure } from '../api';
import { resolveEndpoints, type EndpointRequest, type SrvResolver } from '../xmpp/endpoints';
import { openPreAuthStream, type PreAuthStream } from '../xmpp/pre-auth-stream';
import { missingFields, NS_REGISTER, parseRegistrationForm, registrationRefusal, registrationSubmission, type ServerForm } from '../xmpp/registration';
import { classifyFailure, worthAnotherEndpoint } from './failures';

export type RegistrationDeps = { resolveSrv: SrvResolver; trustedCAs?: string[] };

/** Runs `use` on an encrypted stream to the server, trying its addresses as an account does. */
async function onServer<T>(request: EndpointRequest, deps: RegistrationDeps, use: (stream: PreAuthStream) => Promise<T>): Promise<T> {
  let lastError: unknown = new Error('no server address');
  for (const endpoint of await resolveEndpoints(request, deps.resolveSrv)) {
    let stream: PreAuthStream;
    try {
      stream = await openPreAuthStream({ domain: request.domain, endpoint, ...(deps.trustedCAs ? { trustedCAs: deps.trustedCAs } : {}) });
    } catch (error) {
      lastError = error;
      if (!worthAnotherEndpoint(error)) break;
      continue;
    }
    try {
      return await use(stream);
    } finally {
      stream.close();
    }
  }
  throw new CommandFailure('refused', `Could not reach ${request.domain}: ${classifyFailure(lastError).reason}`);
}

/** Turns the server's error answer into words; anything else goes on as it is. */
function refusal(error: unknown, domain: string, username?: string): unknown {
  const e = error as { name?: string; condition?: string; text?: string };
  if (e.name === 'StanzaError' && e.condition) {
    const code = e.condition === 'conflict' ? 'conflict' : 'refused';
    return new CommandFailure(code, registrationRefusal(domain, e.condition, e.text, username), e.condition === 'conflict' ? 'username' : undefined);
  }
  if (e.name === 'TimeoutError') return new CommandFailure('offline', `${domain} did not answer in time; try again.`);
  return error;
}

async function askForm(stream: PreAuthStream, domain: string): Promise<ServerForm> {
  const answer = await stream.request(xml('iq', { type: 'get', to: domain }, xml('query', { xmlns: NS_REGISTER })));
  // Before a login only the server itself speaks; an answer from elsewhere is not its form.
  if (answer.attrs.from !== undefined && answer.attrs.from !== domain) {
    throw new CommandFailure('refused', `The registration form came from ${answer.attrs.from}, not ${domain}.`);
  }
  const form = parseRegistrationForm(answer.getChild('query', NS_REGISTER));
  if ('kind' in form) throw new CommandFailure('refused', `${domain} sent no registration form (${form.reason}).`);
  return form;
}

export async function registrationForm(request: EndpointRequest, deps: RegistrationDeps): Promise<RegistrationForm> {
  return onServer(request, deps, async (stream) => {
    try {
      const { instructions, fields } = await askForm(stream, request.domain);
      return { fields, ...(instructions ? { instructions } : {}) };
    } catch (error) {
      throw refusal(error, request.domain);
    }
  });
}

/**
 * Registers with `values` (which must name a username and a password, the fields XEP-0077
 * fixes for both forms) and returns the new account's address and password.
 */
export async function register(
  request: EndpointRequest,
  values: Readonly<Record<string, string>>,
  deps: RegistrationDeps,
): Promise<{ jid: string; password: string }> {
  const username = values.username?.trim() ?? '';
  const password = values.password ?? '';
  const jid = bareJidSchema.safeParse(`${username}@${request.domain}`);
  if (!username || !jid.success) throw new CommandFailure('invalid-payload', 'Choose a username without spaces or @.', 'username');
  if (!password) throw new CommandFailure('invalid-payload', 'Choose a password.', 'password');
  return onServer(request, deps, async (stream) => {
    try {
      // The form again, on this stream: a server may tie hidden fields (a challenge) to it.
      const form = await askForm(stream, request.domain);
      if (!form.fields.some((f) => f.var === 'username') || !form.fields.some((f) => f.var === 'password')) {
        throw new CommandFailure('refused', `${request.domain} asks for no username and password; Heron cannot create an account with its form.`);
      }
      const filled = { ...values, username };
      const missing = missingFields(form, filled);
      if (missing.length) throw new CommandFailure('invalid-payload', `Fill in ${missing.join(', ')}.`);
      await stream.request(xml('iq', { type: 'set', to: request.domain }, registrationSubmission(form, filled)));
      return { jid: jid.data, password };
    } catch (error) {
      throw refusal(error, request.domain, username);
    }
  });
}
