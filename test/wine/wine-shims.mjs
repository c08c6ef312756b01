// Preloaded into every node.exe the Wine tier starts (NODE_OPTIONS=--import).
// Works around a Wine 8 gap, not a product bug: setting TCP keep-alive on a
// socket that is still connecting fails the connect with UNKNOWN (-4094) under
// Wine, and Node's fetch (undici) does exactly that, so every fetch() fails.
// Keep-alive set after the connect works, so defer it until then.
import net from 'node:net';

const setKeepAlive = net.Socket.prototype.setKeepAlive;
net.Socket.prototype.setKeepAlive = function (enable, initialDelay) {
  if (this.connecting) {
    this.once('connect', () => setKeepAlive.call(this, enable, initialDelay));
    return this;
  }
  return setKeepAlive.call(this, enable, initialDelay);
};
