package org.slm4j.tokenizer;

import java.util.Arrays;

/**
 * A binary min-heap of longs: the merge queues pack (priority, left symbol) into one long, so that the order is
 * the numeric order and no entry is an object.
 */
final class LongHeap {
    private long[] a = new long[64];
    private int size;

    void clear() {
        size = 0;
    }

    boolean isEmpty() {
        return size == 0;
    }

    void add(long v) {
        if (size == a.length) a = Arrays.copyOf(a, Math.multiplyExact(a.length, 2));
        int i = size++;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (a[parent] <= v) break;
            a[i] = a[parent];
            i = parent;
        }
        a[i] = v;
    }

    /** Removes and returns the smallest value; the heap must not be empty. */
    long poll() {
        long top = a[0], v = a[--size];
        int i = 0;
        for (int child; (child = 2 * i + 1) < size; i = child) {
            if (child + 1 < size && a[child + 1] < a[child]) child++;
            if (v <= a[child]) break;
            a[i] = a[child];
        }
        a[i] = v;
        return top;
    }
}
