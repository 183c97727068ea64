/* Stands in for the iOS SDK's TargetConditionals.h when scripts/mobile-static-libs.sh
 * builds the iOS static library without Xcode: ring's C code (its only user
 * in sdk-ffi) reads these two macros to tell iOS from macOS. The values are
 * those of an iOS device. */
#ifndef ZID_TARGET_CONDITIONALS_H
#define ZID_TARGET_CONDITIONALS_H
#define TARGET_OS_MAC 1
#define TARGET_OS_OSX 0
#define TARGET_OS_IPHONE 1
#define TARGET_OS_IOS 1
#endif
