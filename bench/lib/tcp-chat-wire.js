/**
 * The wire of the tcp-chat load (tcp-chat-room.js): what its messages look like, how a
 * recipient reads their fields, and the smoke run's check that every line arrives intact.
 *
 * The wire. A message is one line whose text ends in fixed-width fields,
 *
 *   netlab bench chat s0042 00001234 00000812345
 *                      sender sequence send time (µs since the room opened)
 *
 * and the server delivers it to every other client as `NAME: TEXT\n`. The fields sit at fixed
 * distances before the newline, so a recipient reads them without searching the line, and
 * only the smoke run decodes a line to a string.
 *
 * Leaves out: the server's notices (tcp-chat-room.js skips them) and anything but ASCII.
 */

const ZERO = 0x30;
const TEXT_PREFIX = 'netlab bench chat s';
/** The fields' widths; positions below count back from the newline. */
const SENDER_DIGITS = 4;
const SEQUENCE_DIGITS = 8;
const TIME_DIGITS = 11;
export const TIME_FROM_END = TIME_DIGITS;
const SEQUENCE_FROM_END = TIME_DIGITS + 1 + SEQUENCE_DIGITS;
const SENDER_FROM_END = SEQUENCE_FROM_END + 1 + SENDER_DIGITS;
export const MAX_CLIENTS = 10 ** SENDER_DIGITS;

/** A message's text (without its newline): client `index`'s message `seq`, sent at `sentUs`. */
export function messageText(index, seq, sentUs) {
  return `${TEXT_PREFIX}${pad(index, SENDER_DIGITS)} ${pad(seq, SEQUENCE_DIGITS)} ${pad(sentUs, TIME_DIGITS)}`;
}

/**
 * The smoke run's check: `onLine` sees every message line, `sent` every message sent, `done()`
 * runs once all have arrived. Each line must be `NAME: TEXT` with a TEXT some other client
 * sent, word for word, and the same NAME for the same sender at every recipient; no recipient
 * gets a message twice or its own; in the end every message has reached every other client.
 */
export function verifier(room) {
  const texts = new Map(); // `sender seq` → the text sent
  const names = new Map(); // sender → the name the server gave it
  const seen = new Set(); // `recipient sender seq`
  const fail = (client, why) => {
    room.fail(new Error(`client ${client.index}: ${why}`));
    client.socket.destroy();
  };
  const onLine = (client, buffer, start, end) => {
    const line = buffer.toString('utf8', start, end);
    const colon = line.indexOf(': ');
    const sender = digits(buffer, end - SENDER_FROM_END, end - SENDER_FROM_END + SENDER_DIGITS);
    const seq = digits(buffer, end - SEQUENCE_FROM_END, end - SEQUENCE_FROM_END + SEQUENCE_DIGITS);
    const key = `${sender} ${seq}`;
    if (colon === -1 || texts.get(key) !== line.slice(colon + 2)) return fail(client, `received a line no one sent: ${JSON.stringify(line)}`);
    if (sender === client.index) return fail(client, `received its own message ${seq}`);
    const name = line.slice(0, colon);
    if ((names.get(sender) ?? name) !== name) return fail(client, `client ${sender}'s messages arrive as ${names.get(sender)} and ${name}`);
    names.set(sender, name);
    if (seen.has(`${client.index} ${key}`)) return fail(client, `received client ${sender}'s message ${seq} twice`);
    seen.add(`${client.index} ${key}`);
  };
  const sent = (client, text) => texts.set(`${client.index} ${client.seq}`, text);
  const done = () => {
    const expected = room.sent * (room.clients.length - 1);
    if (seen.size !== expected) throw new Error(`${seen.size} of ${expected} deliveries arrived, each once`);
    if (new Set(names.values()).size !== names.size) throw new Error('two senders arrived under the same name');
  };
  return { onLine, sent, done };
}

/** The unsigned decimal number in buffer[start, end); NaN if a byte there is not a digit. */
export function digits(buffer, start, end) {
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = buffer[i] - ZERO;
    if (digit < 0 || digit > 9) return NaN;
    value = value * 10 + digit;
  }
  return value;
}

/** `value` in decimal, with leading zeros to `width` digits. */
export function pad(value, width) {
  return String(value).padStart(width, '0');
}
