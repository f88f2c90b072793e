/**
 * The library's entry point: {@link org.slm4j.Models#open} gives a {@link org.slm4j.Model}, whose
 * tokenizer, {@link org.slm4j.generate.Generator} and {@link org.slm4j.model.Transformer} are what
 * applications use. The subpackages follow the data: format → tensor → tokenizer → model → generate.
 */
package org.slm4j;
