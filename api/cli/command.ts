/** One `stackl` command: a one-line summary for the usage text, and what it runs. */
export interface Command {
  summary: string;
  run(args: string[]): Promise<number>;
}
