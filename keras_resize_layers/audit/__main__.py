from keras_resize_layers.audit.cli import main

main()
