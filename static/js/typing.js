// "bob is typing…": each `typing` frame shows its user for a few seconds.

/** A typing notice fades if it is not repeated within this time. */
const TYPING_SHOW_MS = 4000;

export class TypingIndicator {
  constructor(element) {
    this.element = element;
    /** user -> timer that ends their notice. */
    this.typing = new Map();
  }

  show(user) {
    if (!user) return;
    clearTimeout(this.typing.get(user));
    this.typing.set(user, setTimeout(() => this.clear(user), TYPING_SHOW_MS));
    this.render();
  }

  clear(user) {
    if (!this.typing.has(user)) return;
    clearTimeout(this.typing.get(user));
    this.typing.delete(user);
    this.render();
  }

  /** Forget everyone not in `users` (they left). */
  keepOnly(users) {
    for (const user of Array.from(this.typing.keys())) {
      if (!users.includes(user)) this.clear(user);
    }
  }

  render() {
    const names = Array.from(this.typing.keys()).sort();
    let text = '';
    if (names.length === 1) text = names[0] + ' is typing…';
    else if (names.length === 2) text = names[0] + ' and ' + names[1] + ' are typing…';
    else if (names.length > 2) text = 'Several people are typing…';
    this.element.textContent = text;
  }
}
