// What the examples use of node's globals (@types/node is not installed:
// the declarations need neither it nor the DOM's types).
declare var console: { log(...args: unknown[]): void };
