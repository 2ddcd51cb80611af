#!/bin/sh
echo "hello"

echo done
