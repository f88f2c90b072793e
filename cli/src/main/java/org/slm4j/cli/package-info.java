/** The {@code slm4j} command line: picocli commands that parse, call the core API, and print. */
package org.slm4j.cli;
