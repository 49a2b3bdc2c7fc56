// Command-line options of the e2e client scripts: `--name value` options and `--name` flags are
// taken out of the argument list, leaving the positional arguments in place.

/** Take `--name value` out of `args`; `dflt` when absent. */
export function option(args, name, dflt) {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const [v] = args.splice(i, 2).slice(1);
  return v;
}

/** Take `--name` out of `args`; whether it was there. */
export function flag(args, name) {
  const i = args.indexOf(`--${name}`);
  if (i >= 0) args.splice(i, 1);
  return i >= 0;
}
