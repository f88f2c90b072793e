package org.slm4j.cli;

public final class Main {
    public static void main(String[] args) {
        System.out.println("slm4j");
    }
}
