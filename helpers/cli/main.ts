import { meshproofProgram } from './program.ts';

/** The `meshproof` command (bin/meshproof.js runs this file): the commands are declared in program.ts. */

// `meshproof … | head` closes the pipe early: that is the reader being done, not an error to print.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

await meshproofProgram().parseAsync(process.argv);
