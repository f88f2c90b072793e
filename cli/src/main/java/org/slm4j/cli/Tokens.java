package org.slm4j.cli;

/** Parses {@code --tokens 1,2,3}. */
final class Tokens {
    private Tokens() {}

    static int[] parse(String csv) {
        String[] parts = csv.split(",");
        int[] ids = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                ids[i] = Integer.parseInt(parts[i].strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--tokens: '" + parts[i].strip() + "' is not a token id");
            }
        }
        return ids;
    }
}
